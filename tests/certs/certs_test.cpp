// Loading certificates and keys from files, key/certificate matching and
// validity windows judged at fixed times.
#include "runtime/certs/certs.hpp"
#include "runtime/certs/pki_builder.hpp"
#include "runtime/common/error.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>

#include <gtest/gtest.h>

namespace router::certs {
namespace {

using router::testing::scratch_dir;
using router::testing::utc;
using router::testing::write_file;

/// Asserts that the call throws router_error and that its message contains every fragment.
template <typename Call>
void expect_error_mentions(Call call, const std::vector<std::string>& fragments) {
  try {
    call();
    ADD_FAILURE() << "expected router_error";
  } catch (const router_error& error) {
    const std::string message = error.what();
    for (const auto& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message '" << message << "' lacks '" << fragment << "'";
  }
}

class certs_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Certs Test", {utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")});
    intermediate_ = new issued_identity(
        pki_->issue_intermediate("Certs Test Intermediate", {utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")}));
    alice_ = new issued_identity(pki_->issue_email(*intermediate_, "Alice", "alice@example.com",
                                                   {utc("2024-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")}));
  }

  static void TearDownTestSuite() {
    delete alice_;
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  static issued_identity* alice_;
  scratch_dir dir_;
};

Botan::AutoSeeded_RNG* certs_test::rng_ = nullptr;
pki_builder* certs_test::pki_ = nullptr;
issued_identity* certs_test::intermediate_ = nullptr;
issued_identity* certs_test::alice_ = nullptr;

TEST_F(certs_test, LoadsPemCertificate) {
  const auto path = dir_ / "alice.pem";
  write_file(path, to_pem(alice_->certificate));

  const auto loaded = load_certificate(path.string());

  EXPECT_EQ(loaded, alice_->certificate);
}

TEST_F(certs_test, LoadsDerCertificate) {
  const auto path = dir_ / "alice.der";
  write_file(path, alice_->certificate.BER_encode());

  const auto loaded = load_certificate(path.string());

  EXPECT_EQ(loaded, alice_->certificate);
}

TEST_F(certs_test, LoadsEveryPemBlockInOrder) {
  const auto path = dir_ / "chain.pem";
  const std::string text = "Alice's chain\n" + to_pem(alice_->certificate) + to_pem(*alice_->private_key) +
                           "comment between blocks\n" + to_pem(intermediate_->certificate);
  write_file(path, text);

  const auto loaded = load_certificates(path.string());

  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0], alice_->certificate);
  EXPECT_EQ(loaded[1], intermediate_->certificate);
}

TEST_F(certs_test, LoadsSingleDerCertificateAsList) {
  const auto path = dir_ / "alice.der";
  write_file(path, alice_->certificate.BER_encode());

  const auto loaded = load_certificates(path.string());

  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0], alice_->certificate);
}

TEST_F(certs_test, MissingCertificateFileNamesFile) {
  const auto path = (dir_ / "absent.pem").string();

  expect_error_mentions([&] { load_certificate(path); },
                        {"cannot read certificate file " + path, "No such file", "check the path"});
}

TEST_F(certs_test, GarbageCertificateFileNamesFile) {
  const auto path = (dir_ / "garbage.der").string();
  write_file(path, std::string("this is not a certificate\n"));

  expect_error_mentions([&] { load_certificate(path); },
                        {"cannot read certificate file " + path, "no PEM or DER certificate found",
                         "export the certificate as PEM or DER"});
}

TEST_F(certs_test, EmptyCertificateFileNamesFile) {
  const auto path = (dir_ / "empty.pem").string();
  write_file(path, std::string());

  expect_error_mentions([&] { load_certificate(path); }, {path, "the file is empty"});
}

TEST_F(certs_test, PemWithoutCertificateBlockNamesFile) {
  const auto path = (dir_ / "key-only.pem").string();
  write_file(path, to_pem(*alice_->private_key));

  expect_error_mentions([&] { load_certificate(path); },
                        {"cannot read certificate file " + path, "no PEM or DER certificate found"});
}

TEST_F(certs_test, CorruptPemBlockNamesFileAndBlock) {
  const auto path = (dir_ / "corrupt.pem").string();
  const std::string corrupt = "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQ==\n-----END CERTIFICATE-----\n";
  write_file(path, to_pem(alice_->certificate) + corrupt);

  expect_error_mentions([&] { load_certificates(path); },
                        {"cannot read certificate file " + path, "PEM certificate number 2 is invalid"});
}

TEST_F(certs_test, LoadsPemAndDerPrivateKey) {
  const auto pem_path = dir_ / "alice-key.pem";
  const auto der_path = dir_ / "alice-key.der";
  write_file(pem_path, to_pem(*alice_->private_key));
  const auto der = Botan::PKCS8::BER_encode(*alice_->private_key);
  write_file(der_path, std::vector<uint8_t>(der.begin(), der.end()));

  const auto from_pem = load_private_key(pem_path.string());
  const auto from_der = load_private_key(der_path.string());

  EXPECT_EQ(from_pem->private_key_bits(), alice_->private_key->private_key_bits());
  EXPECT_EQ(from_der->private_key_bits(), alice_->private_key->private_key_bits());
}

TEST_F(certs_test, MissingKeyFileNamesFile) {
  const auto path = (dir_ / "absent-key.pem").string();

  expect_error_mentions([&] { load_private_key(path); },
                        {"cannot read private key file " + path, "No such file"});
}

TEST_F(certs_test, GarbageKeyFileNamesFile) {
  const auto path = (dir_ / "garbage-key.pem").string();
  write_file(path, std::string("no key here"));

  expect_error_mentions([&] { load_private_key(path); },
                        {"cannot read private key file " + path, "no unencrypted PKCS#8 private key found"});
}

TEST_F(certs_test, EncryptedKeyIsRejectedWithAdvice) {
  const auto path = (dir_ / "encrypted-key.pem").string();
  write_file(path, Botan::PKCS8::PEM_encode(*alice_->private_key, *rng_, "secret"));

  expect_error_mentions([&] { load_private_key(path); },
                        {"cannot read private key file " + path, "the key is encrypted", "-nocrypt"});
}

TEST_F(certs_test, LegacyRsaKeyIsRejectedWithAdvice) {
  const auto path = (dir_ / "legacy-key.pem").string();
  write_file(path, Botan::PEM_Code::encode(alice_->private_key->private_key_bits(), "RSA PRIVATE KEY"));

  expect_error_mentions([&] { load_private_key(path); },
                        {"cannot read private key file " + path, "'RSA PRIVATE KEY'", "-topk8"});
}

TEST_F(certs_test, KeyMatchesItsOwnCertificate) {
  EXPECT_TRUE(key_matches_certificate(*alice_->private_key, alice_->certificate));
  EXPECT_TRUE(key_matches_certificate(*intermediate_->private_key, intermediate_->certificate));
}

TEST_F(certs_test, KeyDoesNotMatchOtherCertificate) {
  EXPECT_FALSE(key_matches_certificate(*intermediate_->private_key, alice_->certificate));
  EXPECT_FALSE(key_matches_certificate(*alice_->private_key, pki_->root().certificate));
}

TEST_F(certs_test, KeyOfOtherTypeDoesNotMatch) {
  const auto ec = pki_->issue_email(*intermediate_, "Eve", "eve@example.com",
                                    {utc("2024-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")},
                                    key_type::ecdsa_p256);

  EXPECT_FALSE(key_matches_certificate(*ec.private_key, alice_->certificate));
  EXPECT_FALSE(key_matches_certificate(*alice_->private_key, ec.certificate));
  EXPECT_TRUE(key_matches_certificate(*ec.private_key, ec.certificate));
}

TEST_F(certs_test, ReportsExactValidityWindow) {
  EXPECT_EQ(not_before(alice_->certificate), utc("2024-01-01T00:00:00Z"));
  EXPECT_EQ(not_after(alice_->certificate), utc("2026-01-01T00:00:00Z"));
}

TEST_F(certs_test, ValidityJudgedAtGivenTime) {
  const auto& certificate = alice_->certificate;

  EXPECT_EQ(check_validity(certificate, utc("2023-12-31T23:59:59Z")), validity::not_yet_valid);
  EXPECT_EQ(check_validity(certificate, utc("2024-01-01T00:00:00Z")), validity::valid);
  EXPECT_EQ(check_validity(certificate, utc("2025-06-15T12:00:00Z")), validity::valid);
  EXPECT_EQ(check_validity(certificate, utc("2026-01-01T00:00:00Z")), validity::valid);
  EXPECT_EQ(check_validity(certificate, utc("2026-01-01T00:00:01Z")), validity::expired);
}

TEST_F(certs_test, WindowsBeyond2049UseGeneralizedTime) {
  const auto late = pki_->issue_email(*intermediate_, "Late", "late@example.com",
                                      {utc("2049-06-01T00:00:00Z"), utc("2051-01-01T00:00:00Z")});

  EXPECT_EQ(not_before(late.certificate), utc("2049-06-01T00:00:00Z"));
  EXPECT_EQ(not_after(late.certificate), utc("2051-01-01T00:00:00Z"));
  EXPECT_EQ(check_validity(late.certificate, utc("2050-06-01T00:00:00Z")), validity::valid);
  EXPECT_EQ(check_validity(late.certificate, utc("2051-01-02T00:00:00Z")), validity::expired);
}

TEST(asn1_time_test, PicksUtcTimeFor1950Through2049) {
  using router::testing::utc;

  EXPECT_EQ(to_asn1_time(utc("1950-01-01T00:00:00Z")).to_string(), "500101000000Z");
  EXPECT_EQ(to_asn1_time(utc("2049-12-31T23:59:59Z")).to_string(), "491231235959Z");
  EXPECT_EQ(to_asn1_time(utc("2050-01-01T00:00:00Z")).to_string(), "20500101000000Z");
}

TEST(asn1_time_test, RejectsYearsBefore1950) {
  EXPECT_THROW(to_asn1_time(router::testing::utc("1949-12-31T23:59:59Z")), router_error);
}

TEST(asn1_time_test, DropsSubSecondPart) {
  const auto time = router::testing::utc("2024-03-04T05:06:07Z") + std::chrono::milliseconds(999);

  EXPECT_EQ(to_asn1_time(time).to_string(), "240304050607Z");
}

TEST_F(certs_test, FingerprintIsSha256OfDerInLowerCaseHex) {
  const auto der = alice_->certificate.BER_encode();
  const auto digest = Botan::HashFunction::create_or_throw("SHA-256")->process(der);

  const std::string fingerprint = fingerprint_sha256(alice_->certificate);

  EXPECT_EQ(fingerprint.size(), 64u);
  EXPECT_EQ(fingerprint, Botan::hex_encode(digest.data(), digest.size(), false));
}

} // namespace
} // namespace router::certs
