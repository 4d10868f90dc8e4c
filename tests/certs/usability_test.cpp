// Certificate usability: every check has its own verdict, judged at a fixed time.
#include "runtime/certs/usability.hpp"

#include "runtime/certs/pki_builder.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

namespace router::testing {
namespace {

using certs::purpose;
using certs::usability;

class usability_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG();
    pki_ = new certs::pki_builder(*rng_, "Usability Test Root", window());
    intermediate_ = new certs::issued_identity(pki_->issue_intermediate("Usability Test CA", window()));
    alice_ = new certs::issued_identity(pki_->issue_email(*intermediate_, "Alice", "alice@example.com", window()));
  }

  static void TearDownTestSuite() {
    delete alice_;
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  static certs::validity_window window() { return {utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")}; }

  static std::chrono::system_clock::time_point now() { return utc("2026-06-01T00:00:00Z"); }

  static certs::trust_store trust() {
    certs::trust_store store;
    store.anchors.push_back(pki_->root().certificate);
    store.intermediates.push_back(intermediate_->certificate);
    return store;
  }

  /// Issues a certificate from the intermediate with the given options.
  static Botan::X509_Certificate issue_custom(Botan::X509_Cert_Options options) {
    const Botan::RSA_PrivateKey key(*rng_, 2048);
    const auto request = Botan::X509::create_cert_req(options, key, "SHA-256", *rng_);
    Botan::X509_CA ca(intermediate_->certificate, *intermediate_->private_key, "SHA-256", *rng_);
    return ca.sign_request(request, *rng_, Botan::X509_Time(window().not_before), Botan::X509_Time(window().not_after));
  }

  static Botan::AutoSeeded_RNG* rng_;
  static certs::pki_builder* pki_;
  static certs::issued_identity* intermediate_;
  static certs::issued_identity* alice_;
};

Botan::AutoSeeded_RNG* usability_test::rng_ = nullptr;
certs::pki_builder* usability_test::pki_ = nullptr;
certs::issued_identity* usability_test::intermediate_ = nullptr;
certs::issued_identity* usability_test::alice_ = nullptr;

TEST_F(usability_test, ValidCertificateIsUsable) {
  const auto sign = certs::check_usability(alice_->certificate, purpose::sign, "alice@example.com", trust(), now());
  const auto encrypt =
      certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", trust(), now());

  EXPECT_EQ(sign.state, usability::usable) << sign.detail;
  EXPECT_EQ(encrypt.state, usability::usable) << encrypt.detail;
}

TEST_F(usability_test, ExpiredCertificateIsExpired) {
  const auto verdict = certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", trust(),
                                              utc("2035-01-02T00:00:00Z"));

  EXPECT_EQ(verdict.state, usability::expired);
  EXPECT_NE(verdict.detail.find("expired"), std::string::npos) << verdict.detail;
}

TEST_F(usability_test, FutureCertificateIsNotYetValid) {
  const auto verdict = certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", trust(),
                                              utc("2024-12-31T00:00:00Z"));

  EXPECT_EQ(verdict.state, usability::not_yet_valid);
}

TEST_F(usability_test, OtherRootIsUntrusted) {
  certs::pki_builder other(*rng_, "Other Root", window());
  certs::trust_store store = trust();
  store.anchors = {other.root().certificate};

  const auto verdict = certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", store, now());

  EXPECT_EQ(verdict.state, usability::untrusted);
}

TEST_F(usability_test, MissingIntermediateIsUntrusted) {
  certs::trust_store store = trust();
  store.intermediates.clear();

  const auto verdict = certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", store, now());

  EXPECT_EQ(verdict.state, usability::untrusted);
}

TEST_F(usability_test, RevokedCertificateIsRevoked) {
  Botan::X509_CA ca(intermediate_->certificate, *intermediate_->private_key, "SHA-256", *rng_);
  const auto empty_crl = ca.new_crl(*rng_, now() - std::chrono::hours(24), std::chrono::hours(24 * 30));
  const Botan::CRL_Entry entry(alice_->certificate, Botan::CRL_Code::KEY_COMPROMISE);
  const auto crl = ca.update_crl(empty_crl, {entry}, *rng_, now() - std::chrono::hours(1), std::chrono::hours(24 * 30));
  certs::trust_store store = trust();
  store.crls.push_back(crl);

  const auto verdict = certs::check_usability(alice_->certificate, purpose::encrypt, "alice@example.com", store, now());

  EXPECT_EQ(verdict.state, usability::revoked) << verdict.detail;
}

TEST_F(usability_test, SigningOnlyKeyCannotReceive) {
  const auto ed25519 = pki_->issue_email(*intermediate_, "Signer", "signer@example.com", window(),
                                         certs::key_type::ed25519);

  const auto encrypt =
      certs::check_usability(ed25519.certificate, purpose::encrypt, "signer@example.com", trust(), now());
  const auto sign = certs::check_usability(ed25519.certificate, purpose::sign, "signer@example.com", trust(), now());

  EXPECT_EQ(encrypt.state, usability::wrong_key_usage);
  EXPECT_NE(encrypt.detail.find("keyEncipherment"), std::string::npos) << encrypt.detail;
  EXPECT_EQ(sign.state, usability::usable) << sign.detail;
}

TEST_F(usability_test, EncipherOnlyKeyCannotSign) {
  Botan::X509_Cert_Options options("Encipher Only/ZZ/Test/Test");
  options.email = "encipher@example.com";
  options.constraints = Botan::Key_Constraints(Botan::KEY_ENCIPHERMENT);
  options.add_ex_constraint("PKIX.EmailProtection");
  const auto certificate = issue_custom(options);

  const auto verdict = certs::check_usability(certificate, purpose::sign, "encipher@example.com", trust(), now());

  EXPECT_EQ(verdict.state, usability::wrong_key_usage);
  EXPECT_NE(verdict.detail.find("digitalSignature"), std::string::npos) << verdict.detail;
}

TEST_F(usability_test, ServerAuthOnlyIsWrongUsage) {
  Botan::X509_Cert_Options options("Web Server/ZZ/Test/Test");
  options.email = "web@example.com";
  options.constraints = Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT);
  options.add_ex_constraint("PKIX.ServerAuth");
  const auto certificate = issue_custom(options);

  const auto verdict = certs::check_usability(certificate, purpose::encrypt, "web@example.com", trust(), now());

  EXPECT_EQ(verdict.state, usability::wrong_key_usage);
  EXPECT_NE(verdict.detail.find("emailProtection"), std::string::npos) << verdict.detail;
}

TEST_F(usability_test, OtherAddressIsMismatch) {
  const auto verdict =
      certs::check_usability(alice_->certificate, purpose::encrypt, "mallory@example.com", trust(), now());

  EXPECT_EQ(verdict.state, usability::address_mismatch);
  EXPECT_NE(verdict.detail.find("alice@example.com"), std::string::npos) << verdict.detail;
  EXPECT_NE(verdict.detail.find("mallory@example.com"), std::string::npos) << verdict.detail;
}

TEST_F(usability_test, DomainCaseIsIgnored) {
  const auto verdict =
      certs::check_usability(alice_->certificate, purpose::encrypt, "alice@EXAMPLE.com", trust(), now());

  EXPECT_EQ(verdict.state, usability::usable) << verdict.detail;
}

TEST_F(usability_test, LocalPartCaseCounts) {
  const auto verdict =
      certs::check_usability(alice_->certificate, purpose::encrypt, "Alice@example.com", trust(), now());

  EXPECT_EQ(verdict.state, usability::address_mismatch);
}

TEST_F(usability_test, SameAddressComparesDomainOnlyCaseInsensitively) {
  EXPECT_TRUE(certs::same_address("bob@Example.COM", "bob@example.com"));
  EXPECT_FALSE(certs::same_address("Bob@example.com", "bob@example.com"));
  EXPECT_FALSE(certs::same_address("bob@example.com", "bob@example.org"));
  EXPECT_FALSE(certs::same_address("bob", "bob"));
}

TEST_F(usability_test, AddressesComeFromSubjectAltName) {
  const auto addresses = certs::certificate_addresses(alice_->certificate);

  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0], "alice@example.com");
}

} // namespace
} // namespace router::testing
