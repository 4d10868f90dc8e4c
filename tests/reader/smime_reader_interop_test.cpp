// Messages made by OpenSSL's `cms` command, in every shape it writes, read by
// our verifier and decrypter. The shapes: detached and opaque signatures in text
// and binary mode, key identifiers, RSASSA-PSS and ECDSA, streamed BER with
// indefinite lengths, AES-CBC and AES-GCM with PKCS#1 v1.5 or OAEP key
// transport, and ECDH key agreement on P-256, P-384 and P-521 with every KDF
// digest OpenSSL offers. Damaged messages must be rejected with the matching
// reason. OpenSSL checks the signatures too, at the same fixed time, so both
// verifiers agree.
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cli/message_reader.hpp"
#include "tests/common/test_pki.hpp"
#include "tests/common/test_support.hpp"
#include "tests/reader/reader_test_pki.hpp"

#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <botan/x509cert.h>

#include <gtest/gtest.h>

#include <algorithm>

namespace router::cli {
namespace {

using certs::issued_identity;
using certs::to_pem;
using router::testing::read_file;
using router::testing::reference_time;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::shared_reader_pki;
using router::testing::unix_seconds;
using router::testing::write_file;

/// Text with bare LF line ends, as a file on Unix has it; OpenSSL's text mode
/// signs and encrypts its CR LF form.
const std::string document =
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Scanned report, page 1 of 1.\n"
    "Line with trailing space \n"
    "Last line\n";

class smime_reader_interop_test : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_ / "root.pem", to_pem(pki_.root()));
    write_file(dir_ / "other-root.pem", to_pem(pki_.other_builder->root().certificate));
    write_file(dir_ / "intermediate.pem", to_pem(pki_.intermediate.certificate));
    write_file(dir_ / "document.txt", document);
    for (const auto& [name, identity] : identities()) {
      write_file(dir_ / (name + ".cert.pem"), to_pem(identity->certificate));
      write_file(dir_ / (name + ".key.pem"), to_pem(*identity->private_key));
    }
  }

  std::vector<std::pair<std::string, const issued_identity*>> identities() const {
    return {{"rsa", &pki_.rsa_signer},         {"p256", &pki_.p256_signer},
            {"p384", &pki_.p384_signer},       {"expired", &pki_.expired_signer},
            {"stranger", &pki_.untrusted_signer}, {"alice", &pki_.alice},
            {"bob", &pki_.bob}};
  }

  std::string path(const std::string& name) const { return shell_quote((dir_ / name).string()); }

  /// Runs an openssl command; a failure ends the test with OpenSSL's output.
  void openssl(const std::string& arguments) const {
    const auto result = run_command("openssl " + arguments);
    ASSERT_EQ(result.exit_code, 0) << "openssl " << arguments << "\n" << result.output;
  }

  /// Signs document.txt with OpenSSL as `signer` and returns the written file.
  std::string openssl_sign(const std::string& signer, const std::string& options) const {
    openssl("cms -sign -in " + path("document.txt") + " -signer " + path(signer + ".cert.pem") + " -inkey " +
            path(signer + ".key.pem") + " " + options + " -out " + path("signed.out"));
    return read_file(dir_ / "signed.out");
  }

  /// Encrypts document.txt with OpenSSL; `recipients` are "-recip FILE ..." arguments.
  std::string openssl_encrypt(const std::string& recipients_and_options) const {
    openssl("cms -encrypt -in " + path("document.txt") + " " + recipients_and_options + " -out " +
            path("encrypted.out"));
    return read_file(dir_ / "encrypted.out");
  }

  /// Returns what OpenSSL itself decrypts from encrypted.out.
  std::string openssl_decrypt(const std::string& recipient, const std::string& inform) const {
    openssl("cms -decrypt -binary -inform " + inform + " -in " + path("encrypted.out") + " -inkey " +
            path(recipient + ".key.pem") + " -recip " + path(recipient + ".cert.pem") + " -out " +
            path("openssl-plain.out"));
    return read_file(dir_ / "openssl-plain.out");
  }

  /// Runs `openssl cms -verify` on signed.out; binary mode must match the signing.
  bool openssl_verifies(const std::string& inform, bool binary = false) const {
    const auto result = run_command("openssl cms -verify " + std::string(binary ? "-binary " : "") + "-inform " +
                                    inform + " -in " + path("signed.out") +
                                    " -CAfile " + path("root.pem") + " -attime " +
                                    std::to_string(unix_seconds(reference_time())) + " -out /dev/null");
    return result.exit_code == 0;
  }

  cms::verify_options trusting(const std::string& anchor = "root") const {
    cms::verify_options options;
    options.trust_anchors = {anchor == "root" ? pki_.root() : pki_.other_builder->root().certificate};
    options.validation_time = reference_time();
    return options;
  }

  cms::decrypt_result decrypt_as(const std::string& message, const issued_identity& recipient) const {
    return decrypt_message(message, *recipient.private_key, recipient.certificate, pki_.rng);
  }

  router::testing::reader_pki& pki_ = shared_reader_pki();
  scratch_dir dir_;
};

/// Flips one byte of `needle` (at `offset` from its start) where it occurs in `haystack`.
std::string flip_inside(std::string haystack, const cms::bytes& needle, size_t offset, uint8_t mask = 0x01) {
  const auto found = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                                 [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; });
  if (found == haystack.end())
    throw std::runtime_error("the bytes to change are not in the message");
  *(found + static_cast<std::ptrdiff_t>(offset)) ^= static_cast<char>(mask);
  return haystack;
}

cms::bytes to_bytes(const std::string& text) {
  return cms::bytes(text.begin(), text.end());
}

struct sign_shape {
  std::string name;
  std::string signer;
  std::string options;
  std::string inform;  // what openssl -verify reads back
};

TEST_F(smime_reader_interop_test, OpensslSignaturesVerify) {
  const std::string chain = "-certfile " + path("intermediate.pem");
  const std::vector<sign_shape> shapes = {
      {"detached text", "rsa", chain, "SMIME"},
      {"detached binary", "rsa", chain + " -binary", "SMIME"},
      {"opaque text", "rsa", chain + " -nodetach", "SMIME"},
      {"opaque binary", "rsa", chain + " -nodetach -binary", "SMIME"},
      {"subject key identifier", "rsa", chain + " -keyid", "SMIME"},
      {"sha-384", "rsa", chain + " -md sha384", "SMIME"},
      {"sha-512 opaque", "rsa", chain + " -md sha512 -nodetach", "SMIME"},
      {"rsassa-pss", "rsa", chain + " -keyopt rsa_padding_mode:pss", "SMIME"},
      {"rsassa-pss opaque sha-512", "rsa", chain + " -nodetach -md sha512 -keyopt rsa_padding_mode:pss", "SMIME"},
      {"ecdsa p-256", "p256", chain, "SMIME"},
      {"ecdsa p-384 opaque", "p384", chain + " -nodetach -md sha384", "SMIME"},
      {"streamed BER", "rsa", chain + " -nodetach -stream -outform DER", "DER"},
      {"streamed BER binary", "rsa", chain + " -nodetach -binary -stream -outform DER", "DER"},
      {"PEM", "rsa", chain + " -nodetach -outform PEM", "PEM"},
  };

  for (const sign_shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    const std::string message = openssl_sign(shape.signer, shape.options);
    ASSERT_TRUE(openssl_verifies(shape.inform, shape.options.find("-binary") != std::string::npos));

    const cms::verify_result result = verify_message(message, trusting());

    EXPECT_EQ(cms::to_string(result.status), "ok") << result.detail;
    EXPECT_NE(result.signer_subject.find("Device"), std::string::npos) << result.signer_subject;
  }
}

/// Replaces every occurrence of `from` in `text` with `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto found = text.find(from); found != std::string::npos; found = text.find(from, found + to.size()))
    text.replace(found, from.size(), to);
  return text;
}

TEST_F(smime_reader_interop_test, LegacyTypeNamesVerify) {
  const std::string chain = "-certfile " + path("intermediate.pem");
  const std::string detached = openssl_sign("rsa", chain);
  const std::string opaque = openssl_sign("rsa", chain + " -nodetach");

  for (const std::string& message : {detached, opaque}) {
    // Renames application/pkcs7-mime and application/pkcs7-signature, protocol parameter included.
    const std::string legacy = replace_all(message, "application/pkcs7-", "application/x-pkcs7-");
    ASSERT_NE(legacy.find("application/x-pkcs7-"), std::string::npos);

    EXPECT_EQ(cms::to_string(verify_message(legacy, trusting()).status), "ok");
  }
}

TEST_F(smime_reader_interop_test, StreamedMessageLacksSmimeType) {
  const std::string message = openssl_sign("rsa", "-certfile " + path("intermediate.pem") + " -nodetach -stream");
  std::string without_type = message;
  const std::string parameter = " smime-type=signed-data;";
  const auto found = without_type.find(parameter);
  ASSERT_NE(found, std::string::npos) << message.substr(0, 300);
  without_type.erase(found, parameter.size());

  EXPECT_EQ(cms::to_string(verify_message(without_type, trusting()).status), "ok");
}

TEST_F(smime_reader_interop_test, ChangedContentIsDigestMismatch) {
  for (const std::string mode : {"", "-binary"}) {
    SCOPED_TRACE(mode.empty() ? "text" : "binary");
    std::string message = openssl_sign("rsa", "-certfile " + path("intermediate.pem") + " " + mode);
    const auto found = message.find("page 1 of 1");
    ASSERT_NE(found, std::string::npos);
    message[found + 5] = '2';

    EXPECT_EQ(cms::to_string(verify_message(message, trusting()).status), "digest_mismatch");
  }
}

TEST_F(smime_reader_interop_test, ChangedSignatureIsBadSignature) {
  for (const std::string signer : {"rsa", "p256"}) {
    SCOPED_TRACE(signer);
    const std::string message =
        openssl_sign(signer, "-certfile " + path("intermediate.pem") + " -nodetach -outform DER");
    const cms::signed_data data = cms::decode_signed_data(cms::decode_content_info(to_bytes(message)));
    ASSERT_EQ(data.signer_infos.size(), 1u);
    const cms::bytes& signature = data.signer_infos[0].signature;

    const std::string changed = flip_inside(message, signature, signature.size() - 3);

    EXPECT_EQ(cms::to_string(verify_message(changed, trusting()).status), "bad_signature");
  }
}

TEST_F(smime_reader_interop_test, NoCertificatesIsSignerNotFound) {
  const std::string message = openssl_sign("rsa", "-nocerts -nodetach");

  EXPECT_EQ(cms::to_string(verify_message(message, trusting()).status), "signer_not_found");

  cms::verify_options with_certificates = trusting();
  with_certificates.extra_certificates = {pki_.rsa_signer.certificate, pki_.intermediate.certificate};
  EXPECT_EQ(cms::to_string(verify_message(message, with_certificates).status), "ok");
}

TEST_F(smime_reader_interop_test, MissingIntermediateIsUntrusted) {
  const std::string message = openssl_sign("rsa", "");

  const cms::verify_result result = verify_message(message, trusting());

  EXPECT_EQ(cms::to_string(result.status), "untrusted") << result.detail;
  EXPECT_FALSE(openssl_verifies("SMIME"));
}

TEST_F(smime_reader_interop_test, UnknownRootIsUntrusted) {
  const std::string message = openssl_sign("rsa", "-certfile " + path("intermediate.pem"));

  EXPECT_EQ(cms::to_string(verify_message(message, trusting("other-root")).status), "untrusted");
  EXPECT_EQ(cms::to_string(verify_message(openssl_sign("stranger", ""), trusting()).status), "untrusted");
}

TEST_F(smime_reader_interop_test, ExpiredSignerIsExpired) {
  const std::string message = openssl_sign("expired", "-certfile " + path("intermediate.pem"));

  const cms::verify_result result = verify_message(message, trusting());

  EXPECT_EQ(cms::to_string(result.status), "expired") << result.detail;
  EXPECT_FALSE(openssl_verifies("SMIME"));
}

struct encrypt_shape {
  std::string name;
  std::string options;
  std::string inform;
};

TEST_F(smime_reader_interop_test, OpensslEncryptionDecrypts) {
  const std::string alice = "-recip " + path("alice.cert.pem");
  const std::string oaep = " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256";
  const std::vector<encrypt_shape> shapes = {
      {"aes-128-cbc", "-aes128 " + alice, "SMIME"},
      {"aes-192-cbc", "-aes192 " + alice, "SMIME"},
      {"aes-256-cbc", "-aes256 " + alice, "SMIME"},
      {"aes-256-cbc binary", "-aes256 -binary " + alice, "SMIME"},
      {"oaep sha-256", "-aes256 " + alice + oaep, "SMIME"},
      {"oaep sha-1", "-aes128 " + alice + " -keyopt rsa_padding_mode:oaep", "SMIME"},
      {"aes-128-gcm", "-aes-128-gcm " + alice, "SMIME"},
      {"aes-256-gcm", "-aes-256-gcm " + alice, "SMIME"},
      {"aes-256-gcm oaep", "-aes-256-gcm " + alice + oaep, "SMIME"},
      {"subject key identifier", "-aes256 -keyid " + alice, "SMIME"},
      {"subject key identifier gcm", "-aes-128-gcm -keyid " + alice, "SMIME"},
      {"streamed BER cbc", "-aes256 -stream -outform DER " + alice, "DER"},
      {"streamed BER gcm", "-aes-256-gcm -stream -outform DER " + alice, "DER"},
      {"PEM", "-aes128 -outform PEM " + alice, "PEM"},
      {"second recipient", "-aes256 -recip " + path("bob.cert.pem") + " " + alice, "SMIME"},
  };

  for (const encrypt_shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    const std::string message = openssl_encrypt(shape.options);
    const std::string expected = openssl_decrypt("alice", shape.inform);

    const cms::decrypt_result result = decrypt_as(message, pki_.alice);

    EXPECT_EQ(cms::to_string(result.status), "ok") << result.detail;
    EXPECT_EQ(std::string(result.content.begin(), result.content.end()), expected);
  }
}

TEST_F(smime_reader_interop_test, OtherRecipientIsNotFound) {
  const std::string message = openssl_encrypt("-aes256 -recip " + path("alice.cert.pem"));

  EXPECT_EQ(cms::to_string(decrypt_as(message, pki_.bob).status), "recipient_not_found");
  EXPECT_EQ(cms::to_string(decrypt_message(message, *pki_.bob.private_key, pki_.alice.certificate, pki_.rng).status),
            "key_mismatch");
}

TEST_F(smime_reader_interop_test, ChangedGcmTagIsAuthenticationFailure) {
  for (const std::string cipher : {"-aes-128-gcm", "-aes-256-gcm"}) {
    SCOPED_TRACE(cipher);
    const std::string message = openssl_encrypt(cipher + " -outform DER -recip " + path("alice.cert.pem"));
    const cms::enveloped_data data = cms::decode_enveloped_data(cms::decode_content_info(to_bytes(message)));

    const std::string changed = flip_inside(message, data.mac, data.mac.size() - 1);

    EXPECT_EQ(cms::to_string(decrypt_as(changed, pki_.alice).status), "authentication_failed");
  }
}

TEST_F(smime_reader_interop_test, ChangedGcmCiphertextIsAuthenticationFailure) {
  const std::string message = openssl_encrypt("-aes-128-gcm -outform DER -recip " + path("alice.cert.pem"));
  const cms::enveloped_data data = cms::decode_enveloped_data(cms::decode_content_info(to_bytes(message)));
  const cms::bytes& ciphertext = *data.encrypted_content.encrypted_content;

  const std::string changed = flip_inside(message, ciphertext, 3);

  EXPECT_EQ(cms::to_string(decrypt_as(changed, pki_.alice).status), "authentication_failed");
}

TEST_F(smime_reader_interop_test, ChangedCbcCiphertextIsDecryptionFailure) {
  for (const std::string cipher : {"-aes128", "-aes192", "-aes256"}) {
    SCOPED_TRACE(cipher);
    const std::string message = openssl_encrypt(cipher + " -outform DER -recip " + path("alice.cert.pem"));
    const cms::enveloped_data data = cms::decode_enveloped_data(cms::decode_content_info(to_bytes(message)));
    const cms::bytes& ciphertext = *data.encrypted_content.encrypted_content;
    ASSERT_GE(ciphertext.size(), 32u);

    // Inverting the last byte of the second-to-last block turns the final
    // padding byte (1 to 16) into 0xEF or more, which is never valid.
    const std::string changed = flip_inside(message, ciphertext, ciphertext.size() - 17, 0xFF);

    EXPECT_EQ(cms::to_string(decrypt_as(changed, pki_.alice).status), "decryption_failed");
  }
}

struct ecdh_shape {
  std::string name;
  std::string recipient;  // identity file stem
  std::string options;
  std::string inform;
};

TEST_F(smime_reader_interop_test, OpensslEcdhEncryptionDecrypts) {
  std::vector<ecdh_shape> shapes;
  for (const std::string recipient : {"p256", "p384"}) {
    // -keyopt applies to the -recip before it.
    const std::string recip = " -recip " + path(recipient + ".cert.pem");
    const std::vector<ecdh_shape> for_recipient = {
        // OpenSSL 3.0's default KDF digest for ECDH is SHA-1.
        {"default kdf aes-128-cbc", recipient, "-aes128" + recip, "SMIME"},
        {"default kdf aes-192-cbc", recipient, "-aes192" + recip, "SMIME"},
        {"default kdf aes-256-cbc", recipient, "-aes256" + recip, "SMIME"},
        {"sha-224 kdf", recipient, "-aes128" + recip + " -keyopt ecdh_kdf_md:sha224", "SMIME"},
        {"sha-256 kdf", recipient, "-aes256" + recip + " -keyopt ecdh_kdf_md:sha256", "SMIME"},
        {"sha-384 kdf", recipient, "-aes192" + recip + " -keyopt ecdh_kdf_md:sha384", "SMIME"},
        {"sha-512 kdf", recipient, "-aes256" + recip + " -keyopt ecdh_kdf_md:sha512", "SMIME"},
        {"aes-128-gcm", recipient, "-aes-128-gcm" + recip, "SMIME"},
        {"aes-256-gcm sha-384 kdf", recipient, "-aes-256-gcm" + recip + " -keyopt ecdh_kdf_md:sha384", "SMIME"},
        {"subject key identifier", recipient, "-aes256 -keyid" + recip, "SMIME"},
        {"subject key identifier gcm", recipient, "-aes-128-gcm -keyid" + recip + " -keyopt ecdh_kdf_md:sha256",
         "SMIME"},
        {"streamed BER", recipient, "-aes256 -stream -outform DER" + recip, "DER"},
    };
    shapes.insert(shapes.end(), for_recipient.begin(), for_recipient.end());
  }
  shapes.push_back({"with an RSA recipient", "p384",
                    "-aes256 -recip " + path("alice.cert.pem") + " -recip " + path("p384.cert.pem"), "SMIME"});

  for (const ecdh_shape& shape : shapes) {
    SCOPED_TRACE(shape.recipient + " " + shape.name);
    const std::string message = openssl_encrypt(shape.options);
    const std::string expected = openssl_decrypt(shape.recipient, shape.inform);
    const issued_identity& recipient = shape.recipient == "p256" ? pki_.p256_signer : pki_.p384_signer;

    const cms::decrypt_result result = decrypt_as(message, recipient);

    EXPECT_EQ(cms::to_string(result.status), "ok") << result.detail;
    EXPECT_EQ(std::string(result.content.begin(), result.content.end()), expected);
  }
}

TEST_F(smime_reader_interop_test, OpensslP521EcdhDecrypts) {
  openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -days 1 -subj /CN=P-521 -keyout " +
          path("p521.key.pem") + " -out " + path("p521.cert.pem") + " 2>/dev/null");
  const Botan::X509_Certificate certificate((dir_ / "p521.cert.pem").string());
  Botan::DataSource_Stream key_source((dir_ / "p521.key.pem").string());
  const std::unique_ptr<Botan::Private_Key> key = Botan::PKCS8::load_key(key_source);

  const std::string recip = " -recip " + path("p521.cert.pem");
  for (const std::string options : {"-aes256" + recip + " -keyopt ecdh_kdf_md:sha512", "-aes-256-gcm -keyid" + recip}) {
    SCOPED_TRACE(options);
    const std::string message = openssl_encrypt(options);
    const std::string expected = openssl_decrypt("p521", "SMIME");

    const cms::decrypt_result result = decrypt_message(message, *key, certificate, pki_.rng);

    EXPECT_EQ(cms::to_string(result.status), "ok") << result.detail;
    EXPECT_EQ(std::string(result.content.begin(), result.content.end()), expected);
  }
}

TEST_F(smime_reader_interop_test, EcdhOtherKeyIsNotDecrypted) {
  const std::string message = openssl_encrypt("-aes256 -recip " + path("p256.cert.pem"));

  EXPECT_EQ(cms::to_string(decrypt_as(message, pki_.p384_signer).status), "recipient_not_found");
  EXPECT_EQ(cms::to_string(decrypt_as(message, pki_.alice).status), "recipient_not_found");
  for (const issued_identity* wrong : {&pki_.p384_signer, &pki_.alice}) {
    EXPECT_EQ(cms::to_string(
                  decrypt_message(message, *wrong->private_key, pki_.p256_signer.certificate, pki_.rng).status),
              "key_mismatch");
  }
}

TEST_F(smime_reader_interop_test, ChangedEcdhWrappedKeyIsDecryptionFailure) {
  for (const std::string cipher : {"-aes128", "-aes-256-gcm"}) {
    SCOPED_TRACE(cipher);
    const std::string message = openssl_encrypt(cipher + " -outform DER -recip " + path("p256.cert.pem"));
    const cms::enveloped_data data = cms::decode_enveloped_data(cms::decode_content_info(to_bytes(message)));
    ASSERT_EQ(data.key_agree_recipients.size(), 1u);
    const cms::bytes& wrapped = data.key_agree_recipients[0].recipient_encrypted_keys.at(0).encrypted_key;

    const cms::decrypt_result result = decrypt_as(flip_inside(message, wrapped, 3), pki_.p256_signer);

    EXPECT_EQ(cms::to_string(result.status), "decryption_failed") << result.detail;
    EXPECT_TRUE(result.content.empty());
  }
}

TEST_F(smime_reader_interop_test, ChangedOriginatorPointIsDecryptionFailure) {
  const std::string message = openssl_encrypt("-aes256 -outform DER -recip " + path("p384.cert.pem"));
  const cms::enveloped_data data = cms::decode_enveloped_data(cms::decode_content_info(to_bytes(message)));
  ASSERT_EQ(data.key_agree_recipients.size(), 1u);
  ASSERT_TRUE(data.key_agree_recipients[0].originator_key.has_value());
  const cms::bytes& point = data.key_agree_recipients[0].originator_key->public_key;

  const cms::decrypt_result result = decrypt_as(flip_inside(message, point, 20), pki_.p384_signer);

  EXPECT_EQ(cms::to_string(result.status), "decryption_failed") << result.detail;
  EXPECT_NE(result.detail.find("originator public key"), std::string::npos) << result.detail;
}

TEST_F(smime_reader_interop_test, CofactorEcdhIsUnsupported) {
  const std::string message = openssl_encrypt("-aes256 -recip " + path("p256.cert.pem") + " -keyopt ecdh_cofactor_mode:1");

  const cms::decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(cms::to_string(result.status), "unsupported_algorithm") << result.detail;
  EXPECT_NE(result.detail.find("key agreement algorithm"), std::string::npos) << result.detail;
}

} // namespace
} // namespace router::cli
