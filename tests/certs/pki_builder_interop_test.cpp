// The throwaway PKI judged by OpenSSL: chains verify for S/MIME signing at a
// fixed time, expired certificates fail, and the extensions read as intended.
#include "runtime/certs/certs.hpp"
#include "runtime/certs/pki_builder.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

namespace router::certs {
namespace {

using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::unix_seconds;
using router::testing::utc;
using router::testing::write_file;

const validity_window ca_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const validity_window email_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const validity_window expired_window{utc("2020-01-01T00:00:00Z"), utc("2021-01-01T00:00:00Z")};

class pki_builder_interop_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Interop Test", ca_window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Interop Test Mail CA", ca_window));
  }

  static void TearDownTestSuite() {
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  void SetUp() override {
    write_file(dir_ / "root.pem", to_pem(pki_->root().certificate));
    write_file(dir_ / "intermediate.pem", to_pem(intermediate_->certificate));
  }

  /// Runs `openssl verify` for S/MIME signing on a certificate at a given time.
  router::testing::command_result verify(const Botan::X509_Certificate& certificate,
                                         std::chrono::system_clock::time_point at) const {
    write_file(dir_ / "leaf.pem", to_pem(certificate));
    return run_command("openssl verify -purpose smimesign -attime " + std::to_string(unix_seconds(at)) +
                       " -CAfile " + shell_quote((dir_ / "root.pem").string()) + " -untrusted " +
                       shell_quote((dir_ / "intermediate.pem").string()) + " " +
                       shell_quote((dir_ / "leaf.pem").string()));
  }

  std::string print_text(const Botan::X509_Certificate& certificate) const {
    write_file(dir_ / "print.pem", to_pem(certificate));
    return run_command("openssl x509 -noout -text -in " + shell_quote((dir_ / "print.pem").string())).output;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  scratch_dir dir_;
};

Botan::AutoSeeded_RNG* pki_builder_interop_test::rng_ = nullptr;
pki_builder* pki_builder_interop_test::pki_ = nullptr;
issued_identity* pki_builder_interop_test::intermediate_ = nullptr;

TEST_F(pki_builder_interop_test, ChainVerifiesForEveryKeyType) {
  for (const auto type : {key_type::rsa_2048, key_type::rsa_3072, key_type::ecdsa_p256, key_type::ecdsa_p384,
                          key_type::ed25519}) {
    SCOPED_TRACE("key type " + std::to_string(static_cast<int>(type)));
    const auto identity = pki_->issue_email(*intermediate_, "Signer", "signer@example.com", email_window, type);

    const auto result = verify(identity.certificate, utc("2025-06-01T00:00:00Z"));

    EXPECT_EQ(result.exit_code, 0) << result.output;
  }
}

TEST_F(pki_builder_interop_test, ExpiredCertificateFailsVerification) {
  const auto old = pki_->issue_email(*intermediate_, "Old", "old@example.com", expired_window);

  const auto result = verify(old.certificate, utc("2025-06-01T00:00:00Z"));

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("certificate has expired"), std::string::npos) << result.output;
}

TEST_F(pki_builder_interop_test, ExpiredCertificateVerifiesInsideItsWindow) {
  const validity_window wide{utc("2019-01-01T00:00:00Z"), utc("2030-01-01T00:00:00Z")};
  pki_builder old_pki(*rng_, "Old Interop Test", wide);
  const auto old_intermediate = old_pki.issue_intermediate("Old Mail CA", wide);
  const auto old_leaf = old_pki.issue_email(old_intermediate, "Old", "old@example.com", expired_window);
  write_file(dir_ / "root.pem", to_pem(old_pki.root().certificate));
  write_file(dir_ / "intermediate.pem", to_pem(old_intermediate.certificate));

  const auto result = verify(old_leaf.certificate, utc("2020-06-01T00:00:00Z"));

  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(pki_builder_interop_test, EmailCertificateExtensionsReadByOpenssl) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);

  const std::string text = print_text(alice.certificate);

  EXPECT_NE(text.find("email:alice@example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("emailAddress = alice@example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("E-mail Protection"), std::string::npos) << text;
  EXPECT_NE(text.find("Digital Signature, Key Encipherment"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  EXPECT_NE(text.find("Not Before: Jan  1 00:00:00 2024 GMT"), std::string::npos) << text;
  EXPECT_NE(text.find("Not After : Jan  1 00:00:00 2034 GMT"), std::string::npos) << text;
}

TEST_F(pki_builder_interop_test, EcCertificateAllowsKeyAgreement) {
  const auto ec = pki_->issue_email(*intermediate_, "Ec", "ec@example.com", email_window, key_type::ecdsa_p256);

  const std::string text = print_text(ec.certificate);

  EXPECT_NE(text.find("Digital Signature, Key Agreement"), std::string::npos) << text;
  EXPECT_NE(text.find("prime256v1"), std::string::npos) << text;
}

TEST_F(pki_builder_interop_test, CaCertificatesCarryCaKeyUsage) {
  const std::string root_text = print_text(pki_->root().certificate);
  const std::string intermediate_text = print_text(intermediate_->certificate);

  EXPECT_NE(root_text.find("CA:TRUE, pathlen:1"), std::string::npos) << root_text;
  EXPECT_NE(root_text.find("Certificate Sign, CRL Sign"), std::string::npos) << root_text;
  EXPECT_NE(intermediate_text.find("CA:TRUE, pathlen:0"), std::string::npos) << intermediate_text;
  EXPECT_NE(intermediate_text.find("Certificate Sign, CRL Sign"), std::string::npos) << intermediate_text;
}

TEST_F(pki_builder_interop_test, KeyPemIsReadByOpenssl) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);
  write_file(dir_ / "key.pem", to_pem(*alice.private_key));
  write_file(dir_ / "cert.pem", to_pem(alice.certificate));

  const auto key_modulus = run_command("openssl rsa -noout -modulus -in " + shell_quote((dir_ / "key.pem").string()));
  const auto cert_modulus =
      run_command("openssl x509 -noout -modulus -in " + shell_quote((dir_ / "cert.pem").string()));

  ASSERT_EQ(key_modulus.exit_code, 0) << key_modulus.output;
  EXPECT_EQ(key_modulus.output, cert_modulus.output);
}

TEST_F(pki_builder_interop_test, FingerprintMatchesOpenssl) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);
  write_file(dir_ / "cert.pem", to_pem(alice.certificate));

  const auto result =
      run_command("openssl x509 -noout -fingerprint -sha256 -in " + shell_quote((dir_ / "cert.pem").string()));

  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::string expected;
  for (char c : result.output.substr(result.output.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      expected += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(fingerprint_sha256(alice.certificate), expected);
}

} // namespace
} // namespace router::certs
