// Every SignedData, EnvelopedData and AuthEnvelopedData we produce is checked
// by OpenSSL's CMS implementation. Signatures verify against the root alone at
// a fixed time, so the intermediates must come from the message. Messages
// decrypt with the recipient's key, and the printed structure shows the
// algorithms.
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/hex.h>
#include <botan/pkix_types.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

namespace router::cms {
namespace {

using certs::issued_identity;
using certs::key_type;
using certs::pki_builder;
using certs::to_pem;
using certs::validity_window;
using router::testing::command_result;
using router::testing::read_file;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::unix_seconds;
using router::testing::utc;
using router::testing::write_file;

const validity_window ca_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const validity_window expired_window{utc("2020-01-01T00:00:00Z"), utc("2021-01-01T00:00:00Z")};
const auto check_time = utc("2025-03-01T12:00:00Z");

bytes to_bytes(const std::string& text) {
  return bytes(text.begin(), text.end());
}

/// A MIME entity with CRLF line ends and bytes outside ASCII, so any
/// canonicalisation or text-mode handling would break the signature.
const bytes mime_content = to_bytes(
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\n"
    "scan page 1\r\n\x00\x01\xfe\xff trailing space \r\nno final newline");

std::string digest_name(digest_algorithm digest) {
  return micalg_name(digest);
}

std::string cipher_name(content_cipher cipher) {
  switch (cipher) {
    case content_cipher::aes128_cbc:
      return "aes128_cbc";
    case content_cipher::aes192_cbc:
      return "aes192_cbc";
    case content_cipher::aes256_cbc:
      return "aes256_cbc";
    case content_cipher::aes128_gcm:
      return "aes128_gcm";
    case content_cipher::aes256_gcm:
      return "aes256_gcm";
  }
  return "?";
}

const std::vector<digest_algorithm> all_digests = {digest_algorithm::sha256, digest_algorithm::sha384,
                                                   digest_algorithm::sha512};
const std::vector<content_cipher> all_ciphers = {content_cipher::aes128_cbc, content_cipher::aes192_cbc,
                                                 content_cipher::aes256_cbc, content_cipher::aes128_gcm,
                                                 content_cipher::aes256_gcm};
const std::vector<key_transport> all_transports = {key_transport::rsa_pkcs1v15, key_transport::rsa_oaep_sha256};

class cms_interop_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Cms Interop Test", ca_window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Cms Interop Mail CA", ca_window));
    rsa_signer_ = new issued_identity(pki_->issue_email(*intermediate_, "Device", "device@example.com", ca_window));
    p256_signer_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Device P-256", "p256@example.com", ca_window, key_type::ecdsa_p256));
    p384_signer_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Device P-384", "p384@example.com", ca_window, key_type::ecdsa_p384));
    ed25519_signer_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Device Ed25519", "ed25519@example.com", ca_window, key_type::ed25519));
    expired_signer_ =
        new issued_identity(pki_->issue_email(*intermediate_, "Old Device", "old@example.com", expired_window));
    bob_ = new issued_identity(pki_->issue_email(*intermediate_, "Bob", "bob@example.com", ca_window));
    carol_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Carol", "carol@example.com", ca_window, key_type::rsa_3072));
    dora_p256_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Dora", "dora@example.com", ca_window, key_type::ecdsa_p256));
    emil_p384_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Emil", "emil@example.com", ca_window, key_type::ecdsa_p384));
  }

  static void TearDownTestSuite() {
    for (issued_identity* identity :
         {emil_p384_, dora_p256_, carol_, bob_, expired_signer_, ed25519_signer_, p384_signer_, p256_signer_, rsa_signer_, intermediate_})
      delete identity;
    delete pki_;
    delete rng_;
  }

  void SetUp() override {
    write_file(dir_ / "root.pem", to_pem(pki_->root().certificate));
    write_file(dir_ / "content.bin", mime_content);
  }

  std::string path(const std::string& name) const { return shell_quote((dir_ / name).string()); }

  static signer_identity signer_of(const issued_identity& identity) {
    return {&identity.certificate, identity.private_key.get(), {intermediate_->certificate}};
  }

  static signing_options options_for(digest_algorithm digest, bool detached) {
    signing_options options;
    options.digest = digest;
    options.detached = detached;
    options.signing_time = check_time;
    return options;
  }

  /// Runs `openssl cms -verify` on a message and writes the content to verified.bin.
  command_result openssl_verify(const bytes& message, bool detached,
                                std::chrono::system_clock::time_point at = check_time) const {
    write_file(dir_ / "signed.der", message);
    std::string command = "openssl cms -verify -inform DER -binary -in " + path("signed.der") + " -CAfile " +
                          path("root.pem") + " -purpose smimesign -attime " + std::to_string(unix_seconds(at)) +
                          " -out " + path("verified.bin");
    if (detached)
      command += " -content " + path("content.bin");
    return run_command(command);
  }

  /// Runs `openssl cms -decrypt` with a recipient's key and writes the plaintext to decrypted.bin.
  command_result openssl_decrypt(const bytes& message, const issued_identity& recipient) const {
    write_file(dir_ / "encrypted.der", message);
    write_file(dir_ / "recipient.pem", to_pem(recipient.certificate));
    write_file(dir_ / "recipient-key.pem", to_pem(*recipient.private_key));
    return run_command("openssl cms -decrypt -binary -inform DER -in " + path("encrypted.der") + " -inkey " +
                       path("recipient-key.pem") + " -recip " + path("recipient.pem") + " -out " +
                       path("decrypted.bin"));
  }

  std::string openssl_print(const bytes& message) const {
    write_file(dir_ / "print.der", message);
    return run_command("openssl cms -cmsout -print -inform DER -in " + path("print.der")).output;
  }

  std::string openssl_asn1parse(const bytes& message) const {
    write_file(dir_ / "parse.der", message);
    return run_command("openssl asn1parse -inform DER -i -in " + path("parse.der")).output;
  }

  bytes output_file(const std::string& name) const { return to_bytes(read_file(dir_ / name)); }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  static issued_identity* rsa_signer_;
  static issued_identity* p256_signer_;
  static issued_identity* p384_signer_;
  static issued_identity* ed25519_signer_;
  static issued_identity* expired_signer_;
  static issued_identity* bob_;
  static issued_identity* carol_;
  static issued_identity* dora_p256_;
  static issued_identity* emil_p384_;
  scratch_dir dir_;
};

Botan::AutoSeeded_RNG* cms_interop_test::rng_ = nullptr;
pki_builder* cms_interop_test::pki_ = nullptr;
issued_identity* cms_interop_test::intermediate_ = nullptr;
issued_identity* cms_interop_test::rsa_signer_ = nullptr;
issued_identity* cms_interop_test::p256_signer_ = nullptr;
issued_identity* cms_interop_test::p384_signer_ = nullptr;
issued_identity* cms_interop_test::ed25519_signer_ = nullptr;
issued_identity* cms_interop_test::expired_signer_ = nullptr;
issued_identity* cms_interop_test::bob_ = nullptr;
issued_identity* cms_interop_test::carol_ = nullptr;
issued_identity* cms_interop_test::dora_p256_ = nullptr;
issued_identity* cms_interop_test::emil_p384_ = nullptr;

TEST_F(cms_interop_test, RsaSignaturesVerify) {
  for (const auto digest : all_digests) {
    for (const bool detached : {true, false}) {
      SCOPED_TRACE(digest_name(digest) + (detached ? " detached" : " encapsulated"));

      const bytes message = sign(mime_content, signer_of(*rsa_signer_), options_for(digest, detached), *rng_);
      const auto result = openssl_verify(message, detached);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_NE(result.output.find("Verification successful"), std::string::npos) << result.output;
      EXPECT_EQ(output_file("verified.bin"), mime_content);
    }
  }
}

TEST_F(cms_interop_test, EcdsaSignaturesVerify) {
  for (const issued_identity* signer : {p256_signer_, p384_signer_}) {
    for (const auto digest : all_digests) {
      for (const bool detached : {true, false}) {
        SCOPED_TRACE(signer->certificate.subject_dn().to_string() + " " + digest_name(digest) +
                     (detached ? " detached" : " encapsulated"));

        const bytes message = sign(mime_content, signer_of(*signer), options_for(digest, detached), *rng_);
        const auto result = openssl_verify(message, detached);

        EXPECT_EQ(result.exit_code, 0) << result.output;
        EXPECT_EQ(output_file("verified.bin"), mime_content);
      }
    }
  }
}

// OpenSSL 3.0 fails Ed25519 SignedData with "invalid digest" (it cannot even
// produce one), so the signature is checked with Python's cryptography package
// and the signer's chain with `openssl verify`.
TEST_F(cms_interop_test, Ed25519SignaturesVerify) {
  const std::string checker = router::testing::source_path("tests/cms/check_ed25519_signed_data.py").string();
  write_file(dir_ / "signer.pem", to_pem(ed25519_signer_->certificate));
  write_file(dir_ / "intermediate.pem", to_pem(intermediate_->certificate));

  for (const bool detached : {true, false}) {
    SCOPED_TRACE(detached ? "detached" : "encapsulated");

    const bytes message =
        sign(mime_content, signer_of(*ed25519_signer_), options_for(digest_algorithm::sha512, detached), *rng_);
    write_file(dir_ / "signed.der", message);
    const auto result = run_command("/usr/bin/python3 " + shell_quote(checker) + " " + path("signed.der") + " " +
                                    path("content.bin") + " " + path("signer.pem"));

    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("Ed25519 SignedData verified"), std::string::npos) << result.output;
  }

  const auto chain = run_command("openssl verify -purpose smimesign -attime " + std::to_string(unix_seconds(check_time)) +
                                 " -CAfile " + path("root.pem") + " -untrusted " + path("intermediate.pem") + " " +
                                 path("signer.pem"));
  EXPECT_EQ(chain.exit_code, 0) << chain.output;
}

TEST_F(cms_interop_test, Ed25519CheckerRejectsTampering) {
  const std::string checker = router::testing::source_path("tests/cms/check_ed25519_signed_data.py").string();
  write_file(dir_ / "signer.pem", to_pem(ed25519_signer_->certificate));
  const bytes message =
      sign(mime_content, signer_of(*ed25519_signer_), options_for(digest_algorithm::sha512, true), *rng_);
  write_file(dir_ / "signed.der", message);
  bytes tampered = mime_content;
  tampered.front() ^= 0x20;
  write_file(dir_ / "content.bin", tampered);

  const auto result = run_command("/usr/bin/python3 " + shell_quote(checker) + " " + path("signed.der") + " " +
                                  path("content.bin") + " " + path("signer.pem"));

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("messageDigest is not the SHA-512"), std::string::npos) << result.output;
}

TEST_F(cms_interop_test, SignatureAlgorithmFollowsKey) {
  struct expectation {
    const issued_identity* signer;
    digest_algorithm digest;
    std::string algorithm;
  };
  const std::vector<expectation> cases = {
      {rsa_signer_, digest_algorithm::sha256, "rsaEncryption"},
      {p256_signer_, digest_algorithm::sha256, "ecdsa-with-SHA256"},
      {p384_signer_, digest_algorithm::sha384, "ecdsa-with-SHA384"},
      {ed25519_signer_, digest_algorithm::sha512, "ED25519"},
  };

  for (const auto& expected : cases) {
    SCOPED_TRACE(expected.algorithm);
    const bytes message = sign(mime_content, signer_of(*expected.signer), options_for(expected.digest, true), *rng_);

    const std::string printed = openssl_print(message);
    const size_t field = printed.find("signatureAlgorithm:");

    ASSERT_NE(field, std::string::npos) << printed;
    EXPECT_EQ(printed.find("algorithm: " + expected.algorithm + " (", field),
              printed.find("algorithm: ", field))
        << printed;
  }
}

TEST_F(cms_interop_test, IntermediatesComeFromMessage) {
  const signer_identity without_intermediates{&rsa_signer_->certificate, rsa_signer_->private_key.get(), {}};
  const signing_options options = options_for(digest_algorithm::sha256, true);

  const auto with_chain = openssl_verify(sign(mime_content, signer_of(*rsa_signer_), options, *rng_), true);
  const auto without_chain = openssl_verify(sign(mime_content, without_intermediates, options, *rng_), true);

  EXPECT_EQ(with_chain.exit_code, 0) << with_chain.output;
  EXPECT_NE(without_chain.exit_code, 0);
  EXPECT_NE(without_chain.output.find("unable to get local issuer certificate"), std::string::npos)
      << without_chain.output;
}

TEST_F(cms_interop_test, TamperedContentFailsVerification) {
  const bytes message = sign(mime_content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha256, true), *rng_);
  bytes tampered = mime_content;
  tampered.back() ^= 0x01;
  write_file(dir_ / "content.bin", tampered);

  const auto result = openssl_verify(message, true);

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("content verify error"), std::string::npos) << result.output;
}

TEST_F(cms_interop_test, ExpiredSignerFailsVerification) {
  const bytes message =
      sign(mime_content, signer_of(*expired_signer_), options_for(digest_algorithm::sha256, true), *rng_);

  const auto result = openssl_verify(message, true);

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("certificate has expired"), std::string::npos) << result.output;
}

TEST_F(cms_interop_test, SignedAttributesPrintAsExpected) {
  const bytes message = sign(mime_content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha384, true), *rng_);

  const std::string printed = openssl_print(message);

  EXPECT_NE(printed.find("version: 1"), std::string::npos) << printed;
  EXPECT_NE(printed.find("eContentType: pkcs7-data"), std::string::npos) << printed;
  EXPECT_NE(printed.find("eContent: <ABSENT>"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: sha384"), std::string::npos) << printed;
  EXPECT_NE(printed.find("object: contentType"), std::string::npos) << printed;
  EXPECT_NE(printed.find("object: messageDigest"), std::string::npos) << printed;
  EXPECT_NE(printed.find("object: signingTime"), std::string::npos) << printed;
  EXPECT_NE(printed.find("UTCTIME:Mar  1 12:00:00 2025 GMT"), std::string::npos) << printed;
  EXPECT_NE(printed.find("object: S/MIME Capabilities"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, CapabilitiesListOnlyAes) {
  const bytes message = sign(mime_content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha256, true), *rng_);

  const std::string parsed = openssl_asn1parse(message);

  for (const std::string cipher : {"aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-192-cbc", "aes-128-cbc"})
    EXPECT_NE(parsed.find(":" + cipher), std::string::npos) << cipher << "\n" << parsed;
  for (const std::string weak : {"rc2", "des-", "des-ede3", "desx"})
    EXPECT_EQ(parsed.find(":" + weak), std::string::npos) << weak << "\n" << parsed;
}

TEST_F(cms_interop_test, SigningTimeAfter2049IsGeneralized) {
  signing_options options = options_for(digest_algorithm::sha256, true);
  options.signing_time = utc("2050-07-04T08:09:10Z");

  const std::string parsed = openssl_asn1parse(sign(mime_content, signer_of(*rsa_signer_), options, *rng_));

  EXPECT_NE(parsed.find("GENERALIZEDTIME   :20500704080910Z"), std::string::npos) << parsed;
}

TEST_F(cms_interop_test, SigningTimeBefore2050IsUtc) {
  signing_options options = options_for(digest_algorithm::sha256, true);
  options.signing_time = utc("2049-12-31T23:59:59Z");

  const std::string parsed = openssl_asn1parse(sign(mime_content, signer_of(*rsa_signer_), options, *rng_));

  EXPECT_NE(parsed.find("UTCTIME           :491231235959Z"), std::string::npos) << parsed;
}

TEST_F(cms_interop_test, EveryCipherAndTransportDecrypts) {
  for (const auto cipher : all_ciphers) {
    for (const auto transport : all_transports) {
      SCOPED_TRACE(cipher_name(cipher) + (transport == key_transport::rsa_oaep_sha256 ? " oaep" : " pkcs1v15"));

      const bytes message = encrypt(mime_content, {{&bob_->certificate, transport}}, cipher, *rng_);
      const auto result = openssl_decrypt(message, *bob_);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(output_file("decrypted.bin"), mime_content);
    }
  }
}

TEST_F(cms_interop_test, EveryRecipientCanDecrypt) {
  const std::vector<recipient> recipients = {{&bob_->certificate, key_transport::rsa_pkcs1v15},
                                             {&carol_->certificate, key_transport::rsa_oaep_sha256}};

  for (const auto cipher : {content_cipher::aes256_cbc, content_cipher::aes256_gcm}) {
    SCOPED_TRACE(cipher_name(cipher));
    const bytes message = encrypt(mime_content, recipients, cipher, *rng_);

    for (const issued_identity* reader : {bob_, carol_}) {
      const auto result = openssl_decrypt(message, *reader);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(output_file("decrypted.bin"), mime_content);
    }
  }
}

TEST_F(cms_interop_test, EmptyAndLargeContentDecrypt) {
  const bytes empty;
  bytes large_buffer(200 * 1024);
  for (size_t i = 0; i < large_buffer.size(); ++i)
    large_buffer[i] = static_cast<uint8_t>(i * 7 + 3);
  const bytes& large = large_buffer;

  for (const auto cipher : {content_cipher::aes128_cbc, content_cipher::aes128_gcm}) {
    for (const bytes* content : {&empty, &large}) {
      SCOPED_TRACE(cipher_name(cipher) + " size " + std::to_string(content->size()));

      const auto result = openssl_decrypt(encrypt(*content, {{&bob_->certificate}}, cipher, *rng_), *bob_);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(output_file("decrypted.bin"), *content);
    }
  }
}

TEST_F(cms_interop_test, OtherKeyCannotDecrypt) {
  const bytes message = encrypt(mime_content, {{&bob_->certificate}}, content_cipher::aes256_cbc, *rng_);

  const auto result = openssl_decrypt(message, *carol_);

  EXPECT_NE(result.exit_code, 0);
}

TEST_F(cms_interop_test, CbcGivesEnvelopedData) {
  const bytes message = encrypt(mime_content, {{&bob_->certificate}}, content_cipher::aes192_cbc, *rng_);

  const std::string parsed = openssl_asn1parse(message);
  const std::string printed = openssl_print(message);

  const std::regex iv_parameter(R"(OBJECT +:aes-192-cbc\n.*l= +16 prim: +OCTET STRING +\[HEX DUMP\]:[0-9A-F]{32}\n)");

  EXPECT_NE(parsed.find("OBJECT            :pkcs7-envelopedData"), std::string::npos) << parsed;
  EXPECT_TRUE(std::regex_search(parsed, iv_parameter)) << parsed;
  EXPECT_NE(printed.find("contentType: pkcs7-envelopedData (1.2.840.113549.1.7.3)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: aes-192-cbc"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: rsaEncryption"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("rsaesOaep"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, GcmGivesAuthEnvelopedData) {
  const bytes message = encrypt(mime_content, {{&bob_->certificate}}, content_cipher::aes128_gcm, *rng_);

  const std::string parsed = openssl_asn1parse(message);
  const std::string printed = openssl_print(message);

  EXPECT_NE(parsed.find("id-smime-ct-authEnvelopedData"), std::string::npos) << parsed;
  EXPECT_NE(printed.find("algorithm: aes-128-gcm"), std::string::npos) << printed;
  // GCMParameters is a 12-byte nonce and the ICV length 16 (0x10). The mac
  // is the last element: a 16-byte OCTET STRING at depth 3.
  const std::regex gcm_parameters(R"(l= +12 prim: +OCTET STRING +\[HEX DUMP\]:[0-9A-F]{24}\n.*l= +1 prim: +INTEGER +:10\n)");
  const std::regex mac(R"(d=3 +hl=2 l= +16 prim: +OCTET STRING +\[HEX DUMP\]:[0-9A-F]{32}\n$)");
  EXPECT_TRUE(std::regex_search(parsed, gcm_parameters)) << parsed;
  EXPECT_TRUE(std::regex_search(parsed, mac)) << parsed;
  EXPECT_EQ(printed.find("pkcs7-envelopedData"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, OaepOnlyWhenRequested) {
  const bytes oaep =
      encrypt(mime_content, {{&bob_->certificate, key_transport::rsa_oaep_sha256}}, content_cipher::aes256_cbc, *rng_);
  const bytes pkcs1 =
      encrypt(mime_content, {{&bob_->certificate, key_transport::rsa_pkcs1v15}}, content_cipher::aes256_cbc, *rng_);

  const std::string oaep_printed = openssl_print(oaep);
  const std::string pkcs1_printed = openssl_print(pkcs1);

  EXPECT_NE(oaep_printed.find("algorithm: rsaesOaep"), std::string::npos) << oaep_printed;
  EXPECT_NE(oaep_printed.find("sha256"), std::string::npos) << oaep_printed;
  EXPECT_NE(oaep_printed.find("mgf1"), std::string::npos) << oaep_printed;
  EXPECT_EQ(pkcs1_printed.find("rsaesOaep"), std::string::npos) << pkcs1_printed;
  EXPECT_NE(pkcs1_printed.find("algorithm: rsaEncryption"), std::string::npos) << pkcs1_printed;
}

TEST_F(cms_interop_test, RecipientIdentifiedByIssuerSerial) {
  const bytes message = encrypt(mime_content, {{&bob_->certificate}}, content_cipher::aes256_cbc, *rng_);

  const std::string printed = openssl_print(message);

  EXPECT_NE(printed.find("d.issuerAndSerialNumber:"), std::string::npos) << printed;
  EXPECT_NE(printed.find("CN=Cms Interop Mail CA"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, RsaPssSignaturesVerify) {
  for (const auto digest : all_digests) {
    for (const bool detached : {true, false}) {
      SCOPED_TRACE(digest_name(digest) + (detached ? " detached" : " encapsulated"));
      signing_options options = options_for(digest, detached);
      options.rsa_scheme = rsa_signature_scheme::pss;

      const bytes message = sign(mime_content, signer_of(*rsa_signer_), options, *rng_);
      const auto result = openssl_verify(message, detached);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(output_file("verified.bin"), mime_content);
    }
  }
}

TEST_F(cms_interop_test, RsaPssParametersAreExplicit) {
  signing_options options = options_for(digest_algorithm::sha384, true);
  options.rsa_scheme = rsa_signature_scheme::pss;

  const std::string printed = openssl_print(sign(mime_content, signer_of(*rsa_signer_), options, *rng_));
  const size_t field = printed.find("signatureAlgorithm:");

  ASSERT_NE(field, std::string::npos) << printed;
  const std::string algorithm = printed.substr(field, printed.find("signature:", field) - field);
  // RSASSA-PSS-params: hashAlgorithm [0] sha384, maskGenAlgorithm [1] mgf1 with
  // sha384, saltLength [2] 48 (0x30), trailerField left at its default.
  const std::regex parameters(
      "algorithm: rsassaPss[^]*cont \\[ 0 \\][^]*OBJECT +:sha384\n[^]*cont \\[ 1 \\][^]*OBJECT +:mgf1\n"
      "[^]*OBJECT +:sha384\n[^]*cont \\[ 2 \\][^]*INTEGER +:30\n");
  EXPECT_TRUE(std::regex_search(algorithm, parameters)) << algorithm;
  EXPECT_EQ(algorithm.find("cont [ 3 ]"), std::string::npos) << algorithm;
}

TEST_F(cms_interop_test, EcdhRecipientsDecrypt) {
  for (const issued_identity* reader : {dora_p256_, emil_p384_}) {
    for (const auto cipher : all_ciphers) {
      SCOPED_TRACE(reader->certificate.subject_dn().to_string() + " " + cipher_name(cipher));

      const bytes message = encrypt(mime_content, {{&reader->certificate}}, cipher, *rng_);
      const auto result = openssl_decrypt(message, *reader);

      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(output_file("decrypted.bin"), mime_content);
    }
  }
}

TEST_F(cms_interop_test, EcdhKeyAgreeRecipientInfoPrints) {
  const bytes message = encrypt(mime_content, {{&dora_p256_->certificate}}, content_cipher::aes256_cbc, *rng_);

  const std::string printed = openssl_print(message);

  EXPECT_NE(printed.find("d.kari:"), std::string::npos) << printed;
  EXPECT_NE(printed.find("version: 3"), std::string::npos) << printed;
  EXPECT_NE(printed.find("d.originatorKey:"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: id-ecPublicKey"), std::string::npos) << printed;
  EXPECT_NE(printed.find("ukm: <ABSENT>"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: dhSinglePass-stdDH-sha256kdf-scheme"), std::string::npos) << printed;
  EXPECT_NE(printed.find("id-aes256-wrap"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, Aes128ContentUsesAes128Wrap) {
  const bytes message = encrypt(mime_content, {{&emil_p384_->certificate}}, content_cipher::aes128_gcm, *rng_);

  const std::string printed = openssl_print(message);

  EXPECT_NE(printed.find("id-aes128-wrap"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("id-aes256-wrap"), std::string::npos) << printed;
}

TEST_F(cms_interop_test, SubjectKeyIdentifierNamesRecipients) {
  struct expectation {
    const issued_identity* reader;
    bytes rid_prefix;  // the tags before the key identifier octets
  };
  // ktri rid: subjectKeyIdentifier [0] IMPLICIT OCTET STRING. kari rid: rKeyId
  // [0] IMPLICIT SEQUENCE holding the OCTET STRING. Both keys have 20-byte identifiers.
  const std::vector<expectation> cases = {{bob_, {0x80, 0x14}}, {dora_p256_, {0xA0, 0x16, 0x04, 0x14}}};

  for (const auto& expected : cases) {
    const Botan::X509_Certificate& certificate = expected.reader->certificate;
    SCOPED_TRACE(certificate.subject_dn().to_string());
    ASSERT_EQ(certificate.subject_key_id().size(), 20u);
    const recipient by_key_id{&certificate, key_transport::rsa_pkcs1v15, recipient_identifier::subject_key_identifier};

    const bytes message = encrypt(mime_content, {by_key_id}, content_cipher::aes256_cbc, *rng_);
    bytes rid = expected.rid_prefix;
    rid.insert(rid.end(), certificate.subject_key_id().begin(), certificate.subject_key_id().end());
    const std::string printed = openssl_print(message);
    const auto result = openssl_decrypt(message, *expected.reader);

    EXPECT_NE(std::search(message.begin(), message.end(), rid.begin(), rid.end()), message.end());
    EXPECT_EQ(printed.find("issuerAndSerialNumber"), std::string::npos) << printed;
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_EQ(output_file("decrypted.bin"), mime_content);
  }
}

} // namespace
} // namespace router::cms
