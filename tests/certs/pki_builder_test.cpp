// Structure of the certificates the throwaway PKI builder issues, read back
// through Botan's parser.
#include "runtime/certs/certs.hpp"
#include "runtime/certs/pki_builder.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/x509path.h>

#include <gtest/gtest.h>

namespace router::certs {
namespace {

using router::testing::utc;

const validity_window ca_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const validity_window email_window{utc("2024-02-01T00:00:00Z"), utc("2027-02-01T00:00:00Z")};

class pki_builder_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Builder Test", ca_window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Builder Test Mail CA", ca_window));
  }

  static void TearDownTestSuite() {
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
};

Botan::AutoSeeded_RNG* pki_builder_test::rng_ = nullptr;
pki_builder* pki_builder_test::pki_ = nullptr;
issued_identity* pki_builder_test::intermediate_ = nullptr;

TEST_F(pki_builder_test, RootIsSelfSignedCa) {
  const auto& root = pki_->root().certificate;

  EXPECT_TRUE(root.is_self_signed());
  EXPECT_TRUE(root.is_CA_cert());
  EXPECT_EQ(root.path_limit(), 1u);
  EXPECT_EQ(root.constraints(), Botan::KEY_CERT_SIGN | Botan::CRL_SIGN);
  EXPECT_FALSE(root.subject_key_id().empty());
  EXPECT_EQ(root.subject_info("X520.Organization"), std::vector<std::string>{"Builder Test"});
  EXPECT_EQ(not_before(root), ca_window.not_before);
  EXPECT_EQ(not_after(root), ca_window.not_after);
  EXPECT_TRUE(key_matches_certificate(*pki_->root().private_key, root));
}

TEST_F(pki_builder_test, IntermediateIsCaSignedByRoot) {
  const auto& root = pki_->root().certificate;
  const auto& intermediate = intermediate_->certificate;

  EXPECT_FALSE(intermediate.is_self_signed());
  EXPECT_TRUE(intermediate.is_CA_cert());
  EXPECT_EQ(intermediate.path_limit(), 0u);
  EXPECT_EQ(intermediate.constraints(), Botan::KEY_CERT_SIGN | Botan::CRL_SIGN);
  EXPECT_EQ(intermediate.issuer_dn(), root.subject_dn());
  EXPECT_EQ(intermediate.authority_key_id(), root.subject_key_id());
  EXPECT_EQ(intermediate.subject_info("X520.CommonName"),
            std::vector<std::string>{"Builder Test Mail CA"});
  EXPECT_TRUE(intermediate.check_signature(*root.load_subject_public_key()));
  EXPECT_EQ(not_before(intermediate), ca_window.not_before);
  EXPECT_EQ(not_after(intermediate), ca_window.not_after);
}

TEST_F(pki_builder_test, EmailCertificateCarriesSmimeFields) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);
  const auto& certificate = alice.certificate;

  EXPECT_FALSE(certificate.is_CA_cert());
  EXPECT_EQ(certificate.issuer_dn(), intermediate_->certificate.subject_dn());
  EXPECT_EQ(certificate.authority_key_id(), intermediate_->certificate.subject_key_id());
  EXPECT_EQ(certificate.subject_key_id().size(), 20u);
  EXPECT_EQ(certificate.subject_alt_name().get_attribute("RFC822"),
            std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(certificate.subject_info("PKCS9.EmailAddress"),
            std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(certificate.subject_info("X520.CommonName"), std::vector<std::string>{"Alice"});
  EXPECT_EQ(certificate.extended_key_usage(),
            std::vector<Botan::OID>{Botan::OID::from_string("PKIX.EmailProtection")});
  EXPECT_EQ(certificate.constraints(), Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT);
  EXPECT_TRUE(certificate.check_signature(*intermediate_->certificate.load_subject_public_key()));
  EXPECT_EQ(not_before(certificate), email_window.not_before);
  EXPECT_EQ(not_after(certificate), email_window.not_after);
  EXPECT_TRUE(key_matches_certificate(*alice.private_key, certificate));
}

TEST_F(pki_builder_test, KeyUsageFollowsKeyType) {
  struct expectation {
    key_type type;
    std::string algorithm;
    Botan::Key_Constraints usage;
  };
  const std::vector<expectation> cases = {
      {key_type::rsa_2048, "RSA", Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT)},
      {key_type::rsa_3072, "RSA", Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT)},
      {key_type::ecdsa_p256, "ECDSA", Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_AGREEMENT)},
      {key_type::ecdsa_p384, "ECDSA", Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_AGREEMENT)},
      {key_type::ed25519, "Ed25519", Botan::DIGITAL_SIGNATURE},
  };

  for (const auto& expected : cases) {
    SCOPED_TRACE(expected.algorithm + " " + std::to_string(static_cast<int>(expected.type)));
    const auto identity = pki_->issue_email(*intermediate_, "Key Type", "type@example.com", email_window, expected.type);

    EXPECT_EQ(identity.private_key->algo_name(), expected.algorithm);
    EXPECT_EQ(identity.certificate.constraints(), expected.usage);
    EXPECT_TRUE(key_matches_certificate(*identity.private_key, identity.certificate));
  }
}

TEST_F(pki_builder_test, RsaKeySizesAreAsNamed) {
  const auto small = pki_->issue_email(*intermediate_, "R2", "r2@example.com", email_window, key_type::rsa_2048);
  const auto large = pki_->issue_email(*intermediate_, "R3", "r3@example.com", email_window, key_type::rsa_3072);

  EXPECT_EQ(small.private_key->key_length(), 2048u);
  EXPECT_EQ(large.private_key->key_length(), 3072u);
}

TEST_F(pki_builder_test, BotanValidatesChainAtFixedTime) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);
  Botan::Certificate_Store_In_Memory trusted;
  trusted.add_certificate(pki_->root().certificate);
  const Botan::Path_Validation_Restrictions restrictions;
  const std::vector<Botan::X509_Certificate> chain = {alice.certificate, intermediate_->certificate};

  const auto inside = Botan::x509_path_validate(chain, restrictions, trusted, "", Botan::Usage_Type::UNSPECIFIED,
                                                utc("2025-01-01T00:00:00Z"));
  const auto after = Botan::x509_path_validate(chain, restrictions, trusted, "", Botan::Usage_Type::UNSPECIFIED,
                                               utc("2028-01-01T00:00:00Z"));

  EXPECT_TRUE(inside.successful_validation()) << inside.result_string();
  EXPECT_EQ(after.result(), Botan::Certificate_Status_Code::CERT_HAS_EXPIRED);
}

TEST_F(pki_builder_test, PemEncodingsRoundTrip) {
  const auto alice = pki_->issue_email(*intermediate_, "Alice", "alice@example.com", email_window);

  const std::string certificate_pem = to_pem(alice.certificate);
  const std::string key_pem = to_pem(*alice.private_key);

  EXPECT_EQ(certificate_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(Botan::X509_Certificate(std::vector<uint8_t>(certificate_pem.begin(), certificate_pem.end())),
            alice.certificate);
}

} // namespace
} // namespace router::certs
