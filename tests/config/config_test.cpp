// Config loading: a valid config loads whole; every bad value stops loading
// with a message that names the file, the entry and the field.
#include "runtime/config/config.hpp"

#include "tests/config/config_fixture.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

class config_test : public config_fixture {
 protected:
  /// Loads config text as if read from a file in the PKI folder.
};

TEST_F(config_test, ValidConfigLoadsEverything) {
  const auto loaded = load(test_config_text());

  EXPECT_EQ(loaded.settings.address_book_size(), 6);
  EXPECT_EQ(loaded.destination_certificates.size(), 5u);
  EXPECT_EQ(loaded.certificate_index.count("dave"), 0u);
  EXPECT_EQ(loaded.certificate_index.count("carol"), 1u);
  ASSERT_TRUE(loaded.device_certificate.has_value());
  EXPECT_NE(loaded.device_key, nullptr);
  EXPECT_EQ(loaded.device_chain.size(), 1u);
  EXPECT_EQ(loaded.trust_anchors.size(), 1u);
}

TEST_F(config_test, RelativePathsResolveAgainstConfigFolder) {
  const auto loaded = load(test_config_text());

  EXPECT_EQ(loaded.settings.delivery().outbox().directory(), (pki_dir_->path() / "outbox").string());
  EXPECT_EQ(loaded.settings.address_book(0).certificate_file(), (pki_dir_->path() / "pki/alice.cert.pem").string());
}

TEST_F(config_test, ExpiredCertificateIsNotALoadError) {
  // Expiry is judged when a message is built, so a config with an expired
  // destination certificate still loads.
  EXPECT_NO_THROW(load(test_config_text()));
}

TEST_F(config_test, MissingFileNamesPath) {
  try {
    config::load_config(pki_dir_->path() / "absent.textproto");
    FAIL() << "loading a missing file succeeded";
  } catch (const config::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.textproto"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

TEST_F(config_test, SyntaxErrorNamesFileAndLine) {
  const std::string message = load_error("signature_mode: SET_INDIVIDUALLY\naddress_book { id: \"x\" \n");

  EXPECT_NE(message.find("router.textproto"), std::string::npos) << message;
  EXPECT_NE(message.find("line "), std::string::npos) << message;
}

TEST_F(config_test, UnknownFieldIsRejected) {
  const std::string message = load_error(test_config_text("colour: RED\n"));

  EXPECT_NE(message.find("colour"), std::string::npos) << message;
}

TEST_F(config_test, UnknownSignatureModeIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "signature_mode: SET_INDIVIDUALLY", "signature_mode: SOMETIMES"));

  EXPECT_NE(message.find("SOMETIMES"), std::string::npos) << message;
  EXPECT_NE(message.find("field 'signature_mode'"), std::string::npos) << message;
  EXPECT_NE(message.find("use one of SET_INDIVIDUALLY, DO_NOT_USE, USE_ALWAYS"), std::string::npos) << message;
}

TEST_F(config_test, DuplicateIdNamesEntryAndField) {
  const std::string message = load_error(
      test_config_text("address_book { id: \"bob\" address: \"bob2@example.com\" kind: EMAIL }\n"));

  EXPECT_NE(message.find("address_book[6] (id 'bob')"), std::string::npos) << message;
  EXPECT_NE(message.find("field 'id'"), std::string::npos) << message;
  EXPECT_NE(message.find("duplicate"), std::string::npos) << message;
}

TEST_F(config_test, InvalidIdCharactersAreRejected) {
  const std::string message =
      load_error(test_config_text("address_book { id: \"a b\" address: \"ab@example.com\" kind: EMAIL }\n"));

  EXPECT_NE(message.find("field 'id'"), std::string::npos) << message;
  EXPECT_NE(message.find("'a b'"), std::string::npos) << message;
}

TEST_F(config_test, InvalidAddressIsRejected) {
  for (const std::string address : {"no-at-sign", "two@@example.com", "x@nodot", "sp ace@example.com", "@example.com"}) {
    SCOPED_TRACE(address);
    const std::string message = load_error(
        test_config_text("address_book { id: \"z\" address: \"" + address + "\" kind: EMAIL }\n"));

    EXPECT_NE(message.find("address_book[6] (id 'z')"), std::string::npos) << message;
    EXPECT_NE(message.find("field 'address'"), std::string::npos) << message;
  }
}

TEST_F(config_test, MissingKindIsRejected) {
  const std::string message =
      load_error(test_config_text("address_book { id: \"z\" address: \"z@example.com\" }\n"));

  EXPECT_NE(message.find("field 'kind'"), std::string::npos) << message;
  EXPECT_NE(message.find("INTERNET_FAX"), std::string::npos) << message;
}

TEST_F(config_test, MissingCertificateFileNamesEntry) {
  const std::string message = load_error(test_config_text(
      "address_book { id: \"z\" address: \"z@example.com\" kind: EMAIL certificate_file: \"pki/none.pem\" }\n"));

  EXPECT_NE(message.find("(id 'z')"), std::string::npos) << message;
  EXPECT_NE(message.find("field 'certificate_file'"), std::string::npos) << message;
  EXPECT_NE(message.find("none.pem"), std::string::npos) << message;
}

TEST_F(config_test, GarbageCertificateIsRejected) {
  write_file(pki_dir_->path() / "garbage.pem", std::string("this is not a certificate\n"));
  const std::string message = load_error(test_config_text(
      "address_book { id: \"z\" address: \"z@example.com\" kind: EMAIL certificate_file: \"garbage.pem\" }\n"));

  EXPECT_NE(message.find("field 'certificate_file'"), std::string::npos) << message;
  EXPECT_NE(message.find("garbage.pem"), std::string::npos) << message;
}

TEST_F(config_test, KeyNotMatchingCertificateIsRejected) {
  const std::string message = load_error(
      replace_once(test_config_text(), "pki/device.key.pem", "pki/alice.key.pem"));

  EXPECT_NE(message.find("device"), std::string::npos) << message;
  EXPECT_NE(message.find("field 'private_key_file'"), std::string::npos) << message;
  EXPECT_NE(message.find("does not belong"), std::string::npos) << message;
}

TEST_F(config_test, MissingKeyFileIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "pki/device.key.pem", "pki/missing.key.pem"));

  EXPECT_NE(message.find("field 'private_key_file'"), std::string::npos) << message;
  EXPECT_NE(message.find("missing.key.pem"), std::string::npos) << message;
}

TEST_F(config_test, SigningWithoutDeviceCertificateIsRejected) {
  std::string text = replace_once(test_config_text(), "  certificate_file: \"pki/device.cert.pem\"\n", "");
  text = replace_once(text, "  private_key_file: \"pki/device.key.pem\"\n", "");
  const std::string message = load_error(text);

  EXPECT_NE(message.find("device: field 'certificate_file'"), std::string::npos) << message;
}

TEST_F(config_test, NoSigningNeedsNoDeviceCertificate) {
  std::string text = replace_once(test_config_text(), "  certificate_file: \"pki/device.cert.pem\"\n", "");
  text = replace_once(text, "  private_key_file: \"pki/device.key.pem\"\n", "");
  text = replace_once(text, "signature_mode: SET_INDIVIDUALLY", "signature_mode: DO_NOT_USE");
  for (const std::string function : {"EMAIL_TX_RESULTS", "FOLDER_TRANSFER_RESULT_REPORT", "STORE", "PERSONAL_BOX",
                                     "TRANSFER_BOX", "FORWARDING"})
    text = replace_once(text, "function: " + function + " encrypt: true sign: true",
                        "function: " + function + " encrypt: true");
  text = replace_once(text, "function: SMTP_RECEPTION sign: true", "function: SMTP_RECEPTION");

  EXPECT_NO_THROW(load(text));
}

TEST_F(config_test, MissingSenderAddressIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "sender_address: \"router@device.example.com\"", ""));

  EXPECT_NE(message.find("device: field 'sender_address'"), std::string::npos) << message;
}

TEST_F(config_test, DuplicateFunctionIsRejected) {
  const std::string message = load_error(test_config_text("functions { function: STORE }\n"));

  EXPECT_NE(message.find("functions[8]"), std::string::npos) << message;
  EXPECT_NE(message.find("STORE"), std::string::npos) << message;
}

TEST_F(config_test, UnknownFunctionNameIsRejected) {
  const std::string message = load_error(test_config_text("functions { function: SCAN_TO_MARS }\n"));

  EXPECT_NE(message.find("SCAN_TO_MARS"), std::string::npos) << message;
}

TEST_F(config_test, MissingDeliveryIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "delivery { outbox { directory: \"outbox\" } }\n", ""));

  EXPECT_NE(message.find("delivery"), std::string::npos) << message;
  EXPECT_NE(message.find("smtp_relay"), std::string::npos) << message;
}

TEST_F(config_test, RelayPortOutOfRangeIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
                              "delivery { smtp_relay { host: \"127.0.0.1\" port: 70000 } }"));

  EXPECT_NE(message.find("field 'smtp_relay.port'"), std::string::npos) << message;
  EXPECT_NE(message.find("70000"), std::string::npos) << message;
}

TEST_F(config_test, MissingChainFileIsRejected) {
  const std::string message =
      load_error(replace_once(test_config_text(), "pki/intermediate.pem", "pki/no-chain.pem"));

  EXPECT_NE(message.find("chain_files[0]"), std::string::npos) << message;
}

TEST_F(config_test, MissingTrustAnchorIsRejected) {
  const std::string message = load_error(replace_once(test_config_text(), "pki/root.pem", "pki/no-root.pem"));

  EXPECT_NE(message.find("trust_anchor_files[0]"), std::string::npos) << message;
}

TEST_F(config_test, CertificatesWithoutTrustAnchorsAreRejected) {
  const std::string message = load_error(replace_once(test_config_text(), "trust_anchor_files: \"pki/root.pem\"\n", ""));

  EXPECT_NE(message.find("field 'trust_anchor_files'"), std::string::npos) << message;
}

TEST_F(config_test, GarbageCrlIsRejected) {
  write_file(pki_dir_->path() / "garbage.crl", std::string("not a CRL\n"));
  const std::string message = load_error(test_config_text("crl_files: \"garbage.crl\"\n"));

  EXPECT_NE(message.find("field 'crl_files[0]'"), std::string::npos) << message;
  EXPECT_NE(message.find("garbage.crl"), std::string::npos) << message;
}

TEST_F(config_test, MissingCrlIsRejected) {
  const std::string message = load_error(test_config_text("crl_files: \"none.crl\"\n"));

  EXPECT_NE(message.find("field 'crl_files[0]'"), std::string::npos) << message;
}

TEST_F(config_test, TrustFilesSplitIntoAnchorsAndIntermediates) {
  const auto loaded = load(test_config_text("trust_anchor_files: \"pki/intermediate.pem\"\n"));

  EXPECT_EQ(loaded.trust.anchors.size(), 1u);
  // The intermediate comes once from the trust files and once from the device chain.
  EXPECT_EQ(loaded.trust.intermediates.size(), 2u);
}

TEST_F(config_test, ParseFunctionNameAcceptsBothCases) {
  EXPECT_EQ(config::parse_function_name("forwarding"), config::FORWARDING);
  EXPECT_EQ(config::parse_function_name("TRANSFER_BOX"), config::TRANSFER_BOX);
  EXPECT_EQ(config::parse_function_name("transfer-box"), config::TRANSFER_BOX);
  EXPECT_FALSE(config::parse_function_name("fax_to_moon").has_value());
  EXPECT_FALSE(config::parse_function_name("SOURCE_FUNCTION_UNSPECIFIED").has_value());
}

TEST_F(config_test, MetricsListenAcceptsLoopback) {
  const auto loaded = load(test_config_text("metrics_listen: \"127.0.0.1:9464\"\n"));

  EXPECT_EQ(loaded.settings.metrics_listen(), "127.0.0.1:9464");
}

TEST_F(config_test, MetricsListenRejectsNonLoopbackHost) {
  const std::string message = load_error(test_config_text("metrics_listen: \"0.0.0.0:9464\"\n"));

  EXPECT_NE(message.find("field 'metrics_listen'"), std::string::npos) << message;
  EXPECT_NE(message.find("not a loopback address"), std::string::npos) << message;
}

TEST_F(config_test, MetricsListenRejectsBadPort) {
  for (const std::string listen : {"127.0.0.1:70000", "127.0.0.1:http", "127.0.0.1"}) {
    const std::string message = load_error(test_config_text("metrics_listen: \"" + listen + "\"\n"));
    EXPECT_NE(message.find("field 'metrics_listen'"), std::string::npos) << listen << ": " << message;
  }
}

} // namespace
} // namespace router::testing
