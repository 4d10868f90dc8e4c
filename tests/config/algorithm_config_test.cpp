// Config validation of the algorithm settings: the global algorithms block and
// the per-destination cipher, capabilities and key transport fields.
#include "runtime/certs/pki_builder.hpp"
#include "runtime/config/config.hpp"

#include "tests/config/config_fixture.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

namespace router::testing {
namespace {

class algorithm_config_test : public config_fixture {
 protected:
  static void SetUpTestSuite() {
    config_fixture::SetUpTestSuite();

    // Load-time checks look at key types only, so these certificates may come
    // from a root of their own.
    Botan::AutoSeeded_RNG rng;
    const certs::validity_window window{utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")};
    certs::pki_builder pki(rng, "Algorithm Config Test", window);
    const auto intermediate = pki.issue_intermediate("Algorithm Config Test CA", window);
    write_identity("ec", pki.issue_email(intermediate, "Ec", "ec@example.com", window, certs::key_type::ecdsa_p256));
    write_identity("ed", pki.issue_email(intermediate, "Ed", "ed@example.com", window, certs::key_type::ed25519));
  }

  static void write_identity(const std::string& id, const certs::issued_identity& identity) {
    write_file(pki_dir_->path() / "pki" / (id + ".cert.pem"), certs::to_pem(identity.certificate));
    write_file(pki_dir_->path() / "pki" / (id + ".key.pem"), certs::to_pem(*identity.private_key));
  }
};

TEST_F(algorithm_config_test, AllNewFieldsLoad) {
  const auto loaded = load(test_config_text(
      "algorithms { digest: SHA384 recipient_identifier: SUBJECT_KEY_IDENTIFIER "
      "signing { form: OPAQUE rsa_scheme: RSASSA_PSS } }\n"
      "address_book { id: \"ec\" address: \"ec@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/ec.cert.pem\" capabilities: [AES128_GCM, AES256_CBC] }\n"
      "address_book { id: \"legacy\" address: \"legacy@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/bob.cert.pem\" content_cipher: AES128_CBC key_transport: RSA_OAEP_SHA256 }\n"));

  const auto* ec = loaded.find_entry("ec");
  const auto* legacy = loaded.find_entry("legacy");
  ASSERT_NE(ec, nullptr);
  ASSERT_NE(legacy, nullptr);
  EXPECT_EQ(ec->capabilities_size(), 2);
  EXPECT_EQ(legacy->content_cipher(), config::AES128_CBC);
  EXPECT_EQ(legacy->key_transport(), config::RSA_OAEP_SHA256);
  EXPECT_EQ(loaded.settings.algorithms().signing().form(), config::OPAQUE);
}

TEST_F(algorithm_config_test, KeyTransportForEcCertificateIsRejected) {
  const std::string message = load_error(test_config_text(
      "address_book { id: \"ec\" address: \"ec@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/ec.cert.pem\" key_transport: RSA_OAEP_SHA256 }\n"));

  EXPECT_NE(message.find("router.textproto: address_book[6] (id 'ec'): field 'key_transport'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("ECDH key agreement"), std::string::npos) << message;
}

TEST_F(algorithm_config_test, DuplicateCapabilityIsRejected) {
  const std::string message = load_error(test_config_text(
      "address_book { id: \"twice\" address: \"twice@example.com\" kind: EMAIL "
      "capabilities: [AES256_GCM, AES128_CBC, AES256_GCM] }\n"));

  EXPECT_NE(message.find("field 'capabilities[2]'"), std::string::npos) << message;
  EXPECT_NE(message.find("AES256_GCM is listed twice"), std::string::npos) << message;
}

TEST_F(algorithm_config_test, UnspecifiedCapabilityIsRejected) {
  const std::string message = load_error(test_config_text(
      "address_book { id: \"none\" address: \"none@example.com\" kind: EMAIL "
      "capabilities: CONTENT_CIPHER_UNSPECIFIED }\n"));

  EXPECT_NE(message.find("field 'capabilities[0]'"), std::string::npos) << message;
  EXPECT_NE(message.find("is not a cipher"), std::string::npos) << message;
}

TEST_F(algorithm_config_test, UnknownEnumNumberIsRejected) {
  const std::string message = load_error(test_config_text("algorithms { content_cipher: 17 }\n"));

  EXPECT_NE(message.find("algorithms: field 'content_cipher': 17 is not a known content_cipher"), std::string::npos)
      << message;
}

TEST_F(algorithm_config_test, PssWithEcDeviceKeyIsRejected) {
  std::string text = test_config_text("algorithms { signing { rsa_scheme: RSASSA_PSS } }\n");
  text = replace_once(text, "pki/device.cert.pem", "pki/ec.cert.pem");
  text = replace_once(text, "pki/device.key.pem", "pki/ec.key.pem");

  const std::string message = load_error(text);

  EXPECT_NE(message.find("algorithms: field 'signing.rsa_scheme'"), std::string::npos) << message;
  EXPECT_NE(message.find("needs an RSA device key"), std::string::npos) << message;
  EXPECT_NE(message.find("ECDSA"), std::string::npos) << message;
}

TEST_F(algorithm_config_test, Ed25519DeviceKeyLoadsWithAnyDigest) {
  std::string text = test_config_text("algorithms { digest: SHA256 }\n");
  text = replace_once(text, "pki/device.cert.pem", "pki/ed.cert.pem");
  text = replace_once(text, "pki/device.key.pem", "pki/ed.key.pem");

  const auto loaded = load(text);

  ASSERT_NE(loaded.device_key, nullptr);
  EXPECT_EQ(loaded.device_key->algo_name(), "Ed25519");
}

TEST_F(algorithm_config_test, Ed25519CertificateCannotBeEncryptedFor) {
  const std::string message = load_error(test_config_text(
      "address_book { id: \"ed\" address: \"ed@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/ed.cert.pem\" }\n"));

  EXPECT_NE(message.find("address_book[6] (id 'ed'): field 'certificate_file'"), std::string::npos) << message;
  EXPECT_NE(message.find("Ed25519 key, which cannot receive encrypted mail"), std::string::npos) << message;
}

TEST_F(algorithm_config_test, Ed25519CertificateWithoutEncryptionLoads) {
  const auto loaded = load(test_config_text(
      "address_book { id: \"ed\" address: \"ed@example.com\" kind: EMAIL certificate_file: \"pki/ed.cert.pem\" }\n"));

  EXPECT_EQ(loaded.destination_certificates.count("ed"), 1u);
}

} // namespace
} // namespace router::testing
