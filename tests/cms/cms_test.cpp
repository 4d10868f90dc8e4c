// CMS producers without external tools: argument checks, error messages and
// DER properties that do not need an independent parser (ordering, versions).
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/common/error.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/ber_dec.h>
#include <botan/der_enc.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>

#include <gtest/gtest.h>

#include <algorithm>

namespace router::cms {
namespace {

using certs::issued_identity;
using certs::key_type;
using certs::pki_builder;
using certs::validity_window;
using router::testing::utc;

const validity_window window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const bytes content = {'h', 'e', 'l', 'l', 'o', '\r', '\n'};

template <typename Call>
std::string error_message(Call call) {
  try {
    call();
  } catch (const router_error& error) {
    return error.what();
  }
  return "(no router_error thrown)";
}

/// Returns the elements of a DER SET OF or SEQUENCE OF, each with its header.
std::vector<bytes> elements_of(const bytes& contents) {
  std::vector<bytes> elements;
  Botan::BER_Decoder decoder(contents);
  while (decoder.more_items()) {
    const Botan::BER_Object object = decoder.get_next_object();
    bytes encoded;
    Botan::DER_Encoder(encoded).add_object(object.type(), object.get_class(), object.bits(), object.length());
    elements.push_back(encoded);
  }
  return elements;
}

/// Returns the version of the EnvelopedData or AuthEnvelopedData in a ContentInfo.
size_t envelope_version(const bytes& message) {
  Botan::OID content_type;
  size_t version = 99;
  Botan::BER_Decoder content_info(message);
  Botan::BER_Decoder outer = content_info.start_cons(Botan::SEQUENCE);
  outer.decode(content_type);
  outer.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC).start_cons(Botan::SEQUENCE).decode(version);
  return version;
}

/// The parts of a SignedData the tests look at.
struct signed_data_parts {
  size_t version = 0;
  bytes certificates;       // contents of certificates [0]
  size_t signer_version = 0;
  bytes signed_attributes;  // contents of signedAttrs [0]
};

signed_data_parts parse_signed_data(const bytes& message) {
  signed_data_parts parts;
  Botan::OID content_type;
  Botan::BER_Decoder content_info(message);
  Botan::BER_Decoder outer = content_info.start_cons(Botan::SEQUENCE);
  outer.decode(content_type);
  Botan::BER_Decoder signed_data = outer.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC).start_cons(Botan::SEQUENCE);
  signed_data.decode(parts.version);
  signed_data.get_next_object();  // digestAlgorithms
  signed_data.get_next_object();  // encapContentInfo
  const Botan::BER_Object certificates = signed_data.get_next_object();
  parts.certificates.assign(certificates.bits(), certificates.bits() + certificates.length());

  Botan::BER_Decoder signer_infos = signed_data.start_cons(Botan::SET);
  Botan::BER_Decoder signer_info = signer_infos.start_cons(Botan::SEQUENCE);
  signer_info.decode(parts.signer_version);
  signer_info.get_next_object();  // sid
  signer_info.get_next_object();  // digestAlgorithm
  const Botan::BER_Object attributes = signer_info.get_next_object();
  parts.signed_attributes.assign(attributes.bits(), attributes.bits() + attributes.length());
  return parts;
}

class cms_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Cms Unit Test", window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Cms Unit Mail CA", window));
    second_intermediate_ = new issued_identity(pki_->issue_intermediate("Cms Unit Other CA", window));
    alice_ = new issued_identity(pki_->issue_email(*intermediate_, "Alice", "alice@example.com", window));
    ec_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Erin", "erin@example.com", window, key_type::ecdsa_p256));
    ed_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Edda", "edda@example.com", window, key_type::ed25519));
  }

  static void TearDownTestSuite() {
    delete ed_;
    delete ec_;
    delete alice_;
    delete second_intermediate_;
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  static signer_identity alice_signer() {
    return {&alice_->certificate, alice_->private_key.get(), {intermediate_->certificate}};
  }

  /// Issues an RSA e-mail certificate without the subjectKeyIdentifier extension.
  static issued_identity issue_without_subject_key_id() {
    auto key = std::make_unique<Botan::RSA_PrivateKey>(*rng_, 2048);
    Botan::X509_DN subject;
    subject.add_attribute("X520.CommonName", "No Key Id");
    Botan::Extensions extensions;
    extensions.add(new Botan::Cert_Extension::Basic_Constraints(false), true);
    extensions.add(new Botan::Cert_Extension::Key_Usage(Botan::KEY_ENCIPHERMENT), true);

    Botan::AlgorithmIdentifier signature_algorithm;
    const std::unique_ptr<Botan::PK_Signer> signer(
        Botan::choose_sig_format(*intermediate_->private_key, *rng_, "SHA-256", signature_algorithm));
    auto certificate = Botan::X509_CA::make_cert(signer.get(), *rng_, signature_algorithm, key->subject_public_key(),
                                                 Botan::X509_Time(window.not_before), Botan::X509_Time(window.not_after),
                                                 intermediate_->certificate.subject_dn(), subject, extensions);
    return {std::move(certificate), std::move(key)};
  }

  static signing_options options_at(const std::string& time) {
    signing_options options;
    options.signing_time = utc(time);
    return options;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  static issued_identity* second_intermediate_;
  static issued_identity* alice_;
  static issued_identity* ec_;
  static issued_identity* ed_;
};

Botan::AutoSeeded_RNG* cms_test::rng_ = nullptr;
pki_builder* cms_test::pki_ = nullptr;
issued_identity* cms_test::intermediate_ = nullptr;
issued_identity* cms_test::second_intermediate_ = nullptr;
issued_identity* cms_test::alice_ = nullptr;
issued_identity* cms_test::ec_ = nullptr;
issued_identity* cms_test::ed_ = nullptr;

TEST(cms_names_test, MicalgNamesFollowRfc8551) {
  EXPECT_EQ(micalg_name(digest_algorithm::sha256), "sha-256");
  EXPECT_EQ(micalg_name(digest_algorithm::sha384), "sha-384");
  EXPECT_EQ(micalg_name(digest_algorithm::sha512), "sha-512");
}

TEST(cms_names_test, OnlyGcmIsAuthenticated) {
  EXPECT_TRUE(is_authenticated(content_cipher::aes128_gcm));
  EXPECT_TRUE(is_authenticated(content_cipher::aes256_gcm));
  EXPECT_FALSE(is_authenticated(content_cipher::aes128_cbc));
  EXPECT_FALSE(is_authenticated(content_cipher::aes192_cbc));
  EXPECT_FALSE(is_authenticated(content_cipher::aes256_cbc));
}

TEST_F(cms_test, SignWithoutCertificateIsRejected) {
  const signer_identity signer{nullptr, alice_->private_key.get(), {}};

  const std::string message = error_message([&] { sign(content, signer, options_at("2025-01-01T00:00:00Z"), *rng_); });

  EXPECT_NE(message.find("no signing certificate"), std::string::npos) << message;
}

TEST_F(cms_test, SignWithoutKeyIsRejected) {
  const signer_identity signer{&alice_->certificate, nullptr, {}};

  const std::string message = error_message([&] { sign(content, signer, options_at("2025-01-01T00:00:00Z"), *rng_); });

  EXPECT_NE(message.find("no private key"), std::string::npos) << message;
  EXPECT_NE(message.find("alice@example.com"), std::string::npos) << message;
}

TEST_F(cms_test, SignWithMismatchedKeyNamesCertificate) {
  const signer_identity signer{&alice_->certificate, intermediate_->private_key.get(), {}};

  const std::string message = error_message([&] { sign(content, signer, options_at("2025-01-01T00:00:00Z"), *rng_); });

  EXPECT_NE(message.find("does not match certificate"), std::string::npos) << message;
  EXPECT_NE(message.find("alice@example.com"), std::string::npos) << message;
  EXPECT_NE(message.find("SHA-256 fingerprint"), std::string::npos) << message;
}

TEST_F(cms_test, Ed25519WithoutSha512IsRejected) {
  const signer_identity signer{&ed_->certificate, ed_->private_key.get(), {}};

  const std::string message = error_message([&] { sign(content, signer, options_at("2025-01-01T00:00:00Z"), *rng_); });

  EXPECT_NE(message.find("SHA-512"), std::string::npos) << message;
}

TEST_F(cms_test, EncryptWithoutRecipientsIsRejected) {
  const std::string message = error_message([&] { encrypt(content, {}, content_cipher::aes256_cbc, *rng_); });

  EXPECT_NE(message.find("no recipient"), std::string::npos) << message;
}

TEST_F(cms_test, EncryptForNullCertificateIsRejected) {
  const std::vector<recipient> recipients = {{&alice_->certificate}, {nullptr}};

  const std::string message = error_message([&] { encrypt(content, recipients, content_cipher::aes256_cbc, *rng_); });

  EXPECT_NE(message.find("recipient 2 has no certificate"), std::string::npos) << message;
}

TEST_F(cms_test, EncryptForEd25519RecipientIsRejected) {
  const std::vector<recipient> recipients = {{&ed_->certificate}};

  const std::string message = error_message([&] { encrypt(content, recipients, content_cipher::aes256_gcm, *rng_); });

  EXPECT_NE(message.find("edda@example.com"), std::string::npos) << message;
  EXPECT_NE(message.find("Ed25519 key"), std::string::npos) << message;
  EXPECT_NE(message.find("register an RSA certificate or an EC one on P-256 or P-384"), std::string::npos) << message;
}

TEST_F(cms_test, RecipientKeyProblemFollowsKeyType) {
  EXPECT_EQ(recipient_key_problem(alice_->certificate), "");
  EXPECT_EQ(recipient_key_problem(ec_->certificate), "");
  EXPECT_NE(recipient_key_problem(ed_->certificate).find("Ed25519"), std::string::npos);
  EXPECT_FALSE(uses_key_agreement(alice_->certificate));
  EXPECT_TRUE(uses_key_agreement(ec_->certificate));
}

TEST_F(cms_test, Ed25519AlwaysSignsWithSha512) {
  EXPECT_EQ(signing_digest(*ed_->private_key, digest_algorithm::sha256), digest_algorithm::sha512);
  EXPECT_EQ(signing_digest(*ed_->private_key, digest_algorithm::sha384), digest_algorithm::sha512);
  EXPECT_EQ(signing_digest(*alice_->private_key, digest_algorithm::sha384), digest_algorithm::sha384);
  EXPECT_EQ(signing_digest(*ec_->private_key, digest_algorithm::sha256), digest_algorithm::sha256);
}

TEST_F(cms_test, EnvelopedDataVersionFollowsRecipients) {
  struct expectation {
    std::string name;
    recipient reader;
    size_t version;
  };
  const std::vector<expectation> cases = {
      {"RSA by issuer and serial", {&alice_->certificate}, 0},
      {"RSA by key identifier",
       {&alice_->certificate, key_transport::rsa_pkcs1v15, recipient_identifier::subject_key_identifier}, 2},
      {"EC by issuer and serial", {&ec_->certificate}, 2},
  };

  for (const auto& expected : cases) {
    SCOPED_TRACE(expected.name);
    EXPECT_EQ(envelope_version(encrypt(content, {expected.reader}, content_cipher::aes128_cbc, *rng_)),
              expected.version);
    EXPECT_EQ(envelope_version(encrypt(content, {expected.reader}, content_cipher::aes128_gcm, *rng_)), 0u);
  }
}

TEST_F(cms_test, MissingKeyIdentifierFallsBackToIssuerSerial) {
  const issued_identity without_key_id = issue_without_subject_key_id();
  ASSERT_TRUE(without_key_id.certificate.subject_key_id().empty());
  const recipient reader{&without_key_id.certificate, key_transport::rsa_pkcs1v15,
                         recipient_identifier::subject_key_identifier};

  const bytes message = encrypt(content, {reader}, content_cipher::aes256_cbc, *rng_);

  EXPECT_EQ(envelope_version(message), 0u);
  const bytes issuer = without_key_id.certificate.raw_issuer_dn();
  EXPECT_NE(std::search(message.begin(), message.end(), issuer.begin(), issuer.end()), message.end());
}

TEST_F(cms_test, SignedAttributesAreInDerSetOrder) {
  const bytes message = sign(content, alice_signer(), options_at("2025-01-01T00:00:00Z"), *rng_);

  const auto attributes = elements_of(parse_signed_data(message).signed_attributes);

  ASSERT_EQ(attributes.size(), 4u);
  EXPECT_TRUE(std::is_sorted(attributes.begin(), attributes.end()));
}

TEST_F(cms_test, VersionsAreOne) {
  const bytes message = sign(content, alice_signer(), options_at("2025-01-01T00:00:00Z"), *rng_);

  const auto parts = parse_signed_data(message);

  EXPECT_EQ(parts.version, 1u);
  EXPECT_EQ(parts.signer_version, 1u);
}

TEST_F(cms_test, CertificateSetIgnoresInputOrder) {
  signer_identity forward = alice_signer();
  forward.intermediates = {intermediate_->certificate, second_intermediate_->certificate};
  signer_identity backward = alice_signer();
  backward.intermediates = {second_intermediate_->certificate, intermediate_->certificate, alice_->certificate};

  const auto forward_set = parse_signed_data(sign(content, forward, options_at("2025-01-01T00:00:00Z"), *rng_)).certificates;
  const auto backward_set = parse_signed_data(sign(content, backward, options_at("2025-01-01T00:00:00Z"), *rng_)).certificates;

  const auto elements = elements_of(forward_set);

  EXPECT_EQ(forward_set, backward_set);
  EXPECT_EQ(elements.size(), 3u);
  EXPECT_TRUE(std::is_sorted(elements.begin(), elements.end()));
}

TEST_F(cms_test, EncapsulatedMessageContainsContent) {
  signing_options options = options_at("2025-01-01T00:00:00Z");
  options.detached = false;
  const bytes marker = {'U', 'n', 'i', 'q', 'u', 'e', '-', 'm', 'a', 'r', 'k', 'e', 'r'};

  const bytes encapsulated = sign(marker, alice_signer(), options, *rng_);
  options.detached = true;
  const bytes detached = sign(marker, alice_signer(), options, *rng_);

  EXPECT_NE(std::search(encapsulated.begin(), encapsulated.end(), marker.begin(), marker.end()), encapsulated.end());
  EXPECT_EQ(std::search(detached.begin(), detached.end(), marker.begin(), marker.end()), detached.end());
}

TEST_F(cms_test, CiphertextDiffersPerCall) {
  const std::vector<recipient> recipients = {{&alice_->certificate}};

  const bytes first = encrypt(content, recipients, content_cipher::aes256_gcm, *rng_);
  const bytes second = encrypt(content, recipients, content_cipher::aes256_gcm, *rng_);

  EXPECT_NE(first, second);
}

} // namespace
} // namespace router::cms
