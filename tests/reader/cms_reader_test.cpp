// The CMS reader against our own encoder: every signer key type and cipher
// round-trips, and each kind of damage is rejected with its own reason.
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/reader.hpp"
#include "tests/common/test_pki.hpp"
#include "tests/reader/reader_test_pki.hpp"

#include <botan/ecc_key.h>
#include <botan/hex.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace router::cms {
namespace {

using router::testing::reader_pki;
using router::testing::reference_time;
using router::testing::shared_reader_pki;
using router::testing::signer_of;
using router::testing::to_bytes;

/// A MIME entity with CR LF line ends and bytes outside ASCII; longer than two
/// AES blocks so that tampering tests can pick a block.
const bytes content = to_bytes(
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: binary\r\n\r\n"
    "scan page 1\r\n\xfe\xff trailing space \r\nno final newline");

class cms_reader_test : public ::testing::Test {
 protected:
  reader_pki& pki_ = shared_reader_pki();

  signing_options options_for(digest_algorithm digest, bool detached) const {
    signing_options options;
    options.digest = digest;
    options.detached = detached;
    options.signing_time = reference_time();
    return options;
  }

  verify_options trusting_root() const {
    verify_options options;
    options.trust_anchors = {pki_.root()};
    options.validation_time = reference_time();
    return options;
  }

  bytes sign_with(const certs::issued_identity& signer, bool detached,
                  digest_algorithm digest = digest_algorithm::sha256, bool with_intermediate = true) {
    return sign(content, signer_of(signer, with_intermediate), options_for(digest, detached), pki_.rng);
  }

  verify_result verify_any(const bytes& message, bool detached, const verify_options& options) const {
    return detached ? verify_signed_data(message, content, options) : verify_signed_data(message, options);
  }

  bytes encrypt_for(const certs::issued_identity& recipient_identity, content_cipher cipher,
                    key_transport transport = key_transport::rsa_pkcs1v15) {
    return encrypt(content, {{&recipient_identity.certificate, transport}}, cipher, pki_.rng);
  }

  decrypt_result decrypt_as(const bytes& message, const certs::issued_identity& recipient_identity) {
    return decrypt(message, *recipient_identity.private_key, recipient_identity.certificate, pki_.rng);
  }
};

TEST_F(cms_reader_test, OwnSignaturesVerify) {
  struct signer_case {
    const certs::issued_identity* signer;
    std::vector<digest_algorithm> digests;
  };
  const std::vector<digest_algorithm> sha2 = {digest_algorithm::sha256, digest_algorithm::sha384,
                                              digest_algorithm::sha512};
  const std::vector<signer_case> cases = {{&pki_.rsa_signer, sha2},
                                          {&pki_.p256_signer, sha2},
                                          {&pki_.p384_signer, sha2},
                                          {&pki_.ed25519_signer, {digest_algorithm::sha512}}};

  for (const signer_case& signer_case : cases) {
    for (const digest_algorithm digest : signer_case.digests) {
      for (const bool detached : {true, false}) {
        SCOPED_TRACE(signer_case.signer->certificate.subject_dn().to_string() + " " + micalg_name(digest) +
                     (detached ? " detached" : " encapsulated"));

        const bytes message = sign_with(*signer_case.signer, detached, digest);
        const verify_result result = verify_any(message, detached, trusting_root());

        EXPECT_EQ(to_string(result.status), "ok") << result.detail;
        EXPECT_EQ(result.content, content);
        EXPECT_EQ(result.signer_subject, signer_case.signer->certificate.subject_dn().to_string());
      }
    }
  }
}

TEST_F(cms_reader_test, OwnPssSignaturesVerify) {
  for (const digest_algorithm digest : {digest_algorithm::sha256, digest_algorithm::sha384, digest_algorithm::sha512}) {
    for (const bool detached : {true, false}) {
      SCOPED_TRACE(micalg_name(digest) + (detached ? " detached" : " encapsulated"));
      signing_options options = options_for(digest, detached);
      options.rsa_scheme = rsa_signature_scheme::pss;

      const bytes message = sign(content, signer_of(pki_.rsa_signer), options, pki_.rng);
      const verify_result result = verify_any(message, detached, trusting_root());

      EXPECT_EQ(to_string(result.status), "ok") << result.detail;
    }
  }
}

TEST_F(cms_reader_test, DecodedSignedDataFields) {
  const signed_data data = decode_signed_data(decode_content_info(sign_with(pki_.rsa_signer, false)));

  EXPECT_EQ(data.version, 1u);
  ASSERT_EQ(data.digest_algorithms.size(), 1u);
  EXPECT_EQ(data.digest_algorithms[0].get_oid(), Botan::OID({2, 16, 840, 1, 101, 3, 4, 2, 1}));
  ASSERT_TRUE(data.encapsulated_content.has_value());
  EXPECT_EQ(*data.encapsulated_content, content);
  EXPECT_EQ(data.certificates.size(), 2u);
  ASSERT_EQ(data.signer_infos.size(), 1u);
  EXPECT_EQ(data.signer_infos[0].version, 1u);
  EXPECT_FALSE(data.signer_infos[0].sid.by_key_identifier);
  EXPECT_TRUE(data.signer_infos[0].sid.matches(pki_.rsa_signer.certificate));
  EXPECT_FALSE(data.signer_infos[0].sid.matches(pki_.alice.certificate));
  EXPECT_TRUE(data.signer_infos[0].signed_attributes_der.has_value());
  EXPECT_EQ(data.signer_infos[0].signed_attributes.size(), 4u);
}

TEST_F(cms_reader_test, ChangedContentIsDigestMismatch) {
  const bytes message = sign_with(pki_.rsa_signer, true);
  bytes changed = content;
  changed[50] ^= 0x01;

  const verify_result result = verify_signed_data(message, changed, trusting_root());

  EXPECT_EQ(to_string(result.status), "digest_mismatch") << result.detail;
  EXPECT_EQ(result.signer_subject, pki_.rsa_signer.certificate.subject_dn().to_string());
}

TEST_F(cms_reader_test, ChangedEncapsulatedContentIsDigestMismatch) {
  bytes message = sign_with(pki_.rsa_signer, false);
  const auto found = std::search(message.begin(), message.end(), content.begin(), content.end());
  ASSERT_NE(found, message.end());
  *(found + 50) ^= 0x01;

  EXPECT_EQ(to_string(verify_signed_data(message, trusting_root()).status), "digest_mismatch");
}

TEST_F(cms_reader_test, ChangedSignatureIsBadSignature) {
  for (const certs::issued_identity* signer : {&pki_.rsa_signer, &pki_.ed25519_signer}) {
    SCOPED_TRACE(signer->certificate.subject_dn().to_string());
    const digest_algorithm digest = signer == &pki_.ed25519_signer ? digest_algorithm::sha512 : digest_algorithm::sha256;
    bytes message = sign_with(*signer, true, digest);
    // The signature OCTET STRING is the last field of the only SignerInfo.
    message[message.size() - 5] ^= 0x01;

    EXPECT_EQ(to_string(verify_signed_data(message, content, trusting_root()).status), "bad_signature");
  }
}

TEST_F(cms_reader_test, MissingIntermediateIsUntrusted) {
  const bytes message = sign_with(pki_.rsa_signer, true, digest_algorithm::sha256, false);

  const verify_result result = verify_signed_data(message, content, trusting_root());

  EXPECT_EQ(to_string(result.status), "untrusted") << result.detail;
}

TEST_F(cms_reader_test, ExtraCertificateCompletesChain) {
  const bytes message = sign_with(pki_.rsa_signer, true, digest_algorithm::sha256, false);
  verify_options options = trusting_root();
  options.extra_certificates = {pki_.intermediate.certificate};

  EXPECT_EQ(to_string(verify_signed_data(message, content, options).status), "ok");
}

TEST_F(cms_reader_test, UnknownRootIsUntrusted) {
  const bytes message = sign(content, {&pki_.untrusted_signer.certificate, pki_.untrusted_signer.private_key.get(), {}},
                             options_for(digest_algorithm::sha256, true), pki_.rng);

  const verify_result result = verify_signed_data(message, content, trusting_root());

  EXPECT_EQ(to_string(result.status), "untrusted") << result.detail;
}

TEST_F(cms_reader_test, NoTrustAnchorIsUntrusted) {
  verify_options options = trusting_root();
  options.trust_anchors.clear();

  EXPECT_EQ(to_string(verify_signed_data(sign_with(pki_.rsa_signer, true), content, options).status), "untrusted");
}

TEST_F(cms_reader_test, ExpiredSignerIsExpired) {
  const verify_result result = verify_signed_data(sign_with(pki_.expired_signer, true), content, trusting_root());

  EXPECT_EQ(to_string(result.status), "expired") << result.detail;
}

TEST_F(cms_reader_test, ValidationTimeDecidesValidity) {
  const bytes message = sign_with(pki_.not_yet_valid_signer, true);
  verify_options options = trusting_root();
  options.validation_time = router::testing::utc("2027-06-01T00:00:00Z");

  EXPECT_EQ(to_string(verify_signed_data(message, content, options).status), "ok");
}

TEST_F(cms_reader_test, FutureSignerIsNotYetValid) {
  const verify_result result =
      verify_signed_data(sign_with(pki_.not_yet_valid_signer, true), content, trusting_root());

  EXPECT_EQ(to_string(result.status), "not_yet_valid") << result.detail;
}

TEST_F(cms_reader_test, DetachedWithoutContentIsMalformed) {
  const verify_result result = verify_signed_data(sign_with(pki_.rsa_signer, true), trusting_root());

  EXPECT_EQ(to_string(result.status), "malformed");
  EXPECT_NE(result.detail.find("detached"), std::string::npos) << result.detail;
}

TEST_F(cms_reader_test, ContentGivenTwiceIsMalformed) {
  EXPECT_EQ(to_string(verify_signed_data(sign_with(pki_.rsa_signer, false), content, trusting_root()).status),
            "malformed");
}

TEST_F(cms_reader_test, TruncatedSignedDataIsMalformed) {
  const bytes message = sign_with(pki_.rsa_signer, false);
  for (const size_t length : {size_t{0}, size_t{1}, size_t{20}, message.size() / 2, message.size() - 1}) {
    SCOPED_TRACE(length);
    const bytes truncated(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(length));

    EXPECT_EQ(to_string(verify_signed_data(truncated, trusting_root()).status), "malformed");
  }
}

TEST_F(cms_reader_test, EnvelopedDataIsNotSignedData) {
  const verify_result result = verify_signed_data(encrypt_for(pki_.alice, content_cipher::aes128_cbc), trusting_root());

  EXPECT_EQ(to_string(result.status), "malformed");
}

TEST_F(cms_reader_test, OwnEncryptionDecrypts) {
  for (const content_cipher cipher : {content_cipher::aes128_cbc, content_cipher::aes192_cbc, content_cipher::aes256_cbc,
                                      content_cipher::aes128_gcm, content_cipher::aes256_gcm}) {
    for (const key_transport transport : {key_transport::rsa_pkcs1v15, key_transport::rsa_oaep_sha256}) {
      for (const certs::issued_identity* recipient : {&pki_.alice, &pki_.bob}) {
        SCOPED_TRACE(std::to_string(static_cast<int>(cipher)) + " " + std::to_string(static_cast<int>(transport)) +
                     " " + recipient->certificate.subject_dn().to_string());

        const decrypt_result result = decrypt_as(encrypt_for(*recipient, cipher, transport), *recipient);

        EXPECT_EQ(to_string(result.status), "ok") << result.detail;
        EXPECT_EQ(result.content, content);
      }
    }
  }
}

TEST_F(cms_reader_test, KeyIdentifierRecipientDecrypts) {
  for (const content_cipher cipher : {content_cipher::aes256_cbc, content_cipher::aes128_gcm}) {
    recipient by_key_id{&pki_.alice.certificate, key_transport::rsa_oaep_sha256,
                        recipient_identifier::subject_key_identifier};
    const bytes message = encrypt(content, {by_key_id}, cipher, pki_.rng);
    const enveloped_data data = decode_enveloped_data(decode_content_info(message));
    ASSERT_EQ(data.key_trans_recipients.size(), 1u);
    EXPECT_TRUE(data.key_trans_recipients[0].rid.by_key_identifier);

    const decrypt_result result = decrypt_as(message, pki_.alice);

    EXPECT_EQ(to_string(result.status), "ok") << result.detail;
    EXPECT_EQ(result.content, content);
    EXPECT_EQ(to_string(decrypt_as(message, pki_.bob).status), "recipient_not_found");
  }
}

TEST_F(cms_reader_test, SecondRecipientDecrypts) {
  const bytes message = encrypt(content,
                                {{&pki_.alice.certificate, key_transport::rsa_pkcs1v15},
                                 {&pki_.bob.certificate, key_transport::rsa_oaep_sha256}},
                                content_cipher::aes256_gcm, pki_.rng);

  EXPECT_EQ(decrypt_as(message, pki_.alice).content, content);
  EXPECT_EQ(decrypt_as(message, pki_.bob).content, content);
}

TEST_F(cms_reader_test, DecodedEnvelopedDataFields) {
  const enveloped_data data =
      decode_enveloped_data(decode_content_info(encrypt_for(pki_.alice, content_cipher::aes256_gcm)));

  EXPECT_TRUE(data.authenticated);
  EXPECT_EQ(data.version, 0u);
  ASSERT_EQ(data.key_trans_recipients.size(), 1u);
  EXPECT_EQ(data.other_recipient_count, 0u);
  EXPECT_TRUE(data.key_trans_recipients[0].rid.matches(pki_.alice.certificate));
  EXPECT_EQ(data.mac.size(), 16u);
  ASSERT_TRUE(data.encrypted_content.encrypted_content.has_value());
  EXPECT_EQ(data.encrypted_content.encrypted_content->size(), content.size());
  EXPECT_FALSE(data.authenticated_attributes_der.has_value());
}

TEST_F(cms_reader_test, OtherRecipientIsNotFound) {
  const decrypt_result result = decrypt_as(encrypt_for(pki_.alice, content_cipher::aes256_cbc), pki_.bob);

  EXPECT_EQ(to_string(result.status), "recipient_not_found") << result.detail;
  EXPECT_TRUE(result.content.empty());
}

TEST_F(cms_reader_test, KeyOfOtherCertificateIsKeyMismatch) {
  const bytes message = encrypt_for(pki_.alice, content_cipher::aes256_cbc);

  const decrypt_result result = decrypt(message, *pki_.bob.private_key, pki_.alice.certificate, pki_.rng);

  EXPECT_EQ(to_string(result.status), "key_mismatch") << result.detail;
}

TEST_F(cms_reader_test, EcKeyForRsaRecipientIsNotFound) {
  const bytes message = encrypt_for(pki_.alice, content_cipher::aes256_gcm);

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "recipient_not_found") << result.detail;
}

TEST_F(cms_reader_test, Ed25519KeyIsUnsupported) {
  const bytes message = encrypt_for(pki_.alice, content_cipher::aes256_gcm);

  const decrypt_result result = decrypt_as(message, pki_.ed25519_signer);

  EXPECT_EQ(to_string(result.status), "unsupported_algorithm") << result.detail;
}

TEST_F(cms_reader_test, OwnEcdhEncryptionDecrypts) {
  for (const content_cipher cipher : {content_cipher::aes128_cbc, content_cipher::aes192_cbc, content_cipher::aes256_cbc,
                                      content_cipher::aes128_gcm, content_cipher::aes256_gcm}) {
    for (const certs::issued_identity* recipient_identity : {&pki_.p256_signer, &pki_.p384_signer}) {
      for (const recipient_identifier identifier :
           {recipient_identifier::issuer_and_serial_number, recipient_identifier::subject_key_identifier}) {
        SCOPED_TRACE(std::to_string(static_cast<int>(cipher)) + " " +
                     recipient_identity->certificate.subject_dn().to_string() + " " +
                     std::to_string(static_cast<int>(identifier)));
        const recipient ec_recipient{&recipient_identity->certificate, key_transport::rsa_pkcs1v15, identifier};

        const decrypt_result result =
            decrypt_as(encrypt(content, {ec_recipient}, cipher, pki_.rng), *recipient_identity);

        EXPECT_EQ(to_string(result.status), "ok") << result.detail;
        EXPECT_EQ(result.content, content);
      }
    }
  }
}

TEST_F(cms_reader_test, DecodedKeyAgreeRecipientInfoFields) {
  const enveloped_data data =
      decode_enveloped_data(decode_content_info(encrypt_for(pki_.p384_signer, content_cipher::aes256_cbc)));

  EXPECT_TRUE(data.key_trans_recipients.empty());
  EXPECT_EQ(data.other_recipient_count, 0u);
  ASSERT_EQ(data.key_agree_recipients.size(), 1u);
  const key_agree_recipient_info& info = data.key_agree_recipients[0];
  EXPECT_EQ(info.version, 3u);
  ASSERT_TRUE(info.originator_key.has_value());
  EXPECT_FALSE(info.originator_certificate.has_value());
  EXPECT_EQ(info.originator_key->algorithm.get_oid(), Botan::OID({1, 2, 840, 10045, 2, 1}));
  EXPECT_EQ(info.originator_key->public_key.size(), 97u);  // uncompressed P-384 point
  EXPECT_EQ(info.originator_key->public_key.front(), 0x04);
  EXPECT_FALSE(info.ukm.has_value());
  EXPECT_EQ(info.key_encryption_algorithm.get_oid(), Botan::OID({1, 3, 132, 1, 11, 1}));
  ASSERT_EQ(info.recipient_encrypted_keys.size(), 1u);
  EXPECT_TRUE(info.recipient_encrypted_keys[0].rid.matches(pki_.p384_signer.certificate));
  EXPECT_EQ(info.recipient_encrypted_keys[0].encrypted_key.size(), 40u);  // 32-octet key plus the 8-octet check
}

TEST_F(cms_reader_test, EcdhSecondRecipientDecrypts) {
  const bytes message = encrypt(content,
                                {{&pki_.alice.certificate, key_transport::rsa_oaep_sha256},
                                 {&pki_.p256_signer.certificate},
                                 {&pki_.p384_signer.certificate}},
                                content_cipher::aes128_gcm, pki_.rng);

  EXPECT_EQ(decrypt_as(message, pki_.alice).content, content);
  EXPECT_EQ(decrypt_as(message, pki_.p256_signer).content, content);
  EXPECT_EQ(decrypt_as(message, pki_.p384_signer).content, content);
}

TEST_F(cms_reader_test, EcdhOtherRecipientIsNotFound) {
  const bytes message = encrypt_for(pki_.p256_signer, content_cipher::aes256_cbc);

  EXPECT_EQ(to_string(decrypt_as(message, pki_.p384_signer).status), "recipient_not_found");
  EXPECT_EQ(to_string(decrypt_as(message, pki_.alice).status), "recipient_not_found");
}

TEST_F(cms_reader_test, EcdhKeyOfOtherCertificateIsKeyMismatch) {
  const bytes message = encrypt_for(pki_.p256_signer, content_cipher::aes256_cbc);

  for (const certs::issued_identity* wrong : {&pki_.p384_signer, &pki_.alice}) {
    const decrypt_result result = decrypt(message, *wrong->private_key, pki_.p256_signer.certificate, pki_.rng);

    EXPECT_EQ(to_string(result.status), "key_mismatch") << result.detail;
  }
}

/// Flips one bit of `part` where it occurs in `message`, `offset` octets into it.
bytes flip_inside(bytes message, const bytes& part, size_t offset) {
  const auto found = std::search(message.begin(), message.end(), part.begin(), part.end());
  if (found == message.end())
    throw std::runtime_error("the part to change is not in the message");
  *(found + static_cast<std::ptrdiff_t>(offset)) ^= 0x01;
  return message;
}

TEST_F(cms_reader_test, ChangedWrappedKeyIsDecryptionFailure) {
  for (const content_cipher cipher : {content_cipher::aes128_cbc, content_cipher::aes256_gcm}) {
    const bytes message = encrypt_for(pki_.p256_signer, cipher);
    const enveloped_data data = decode_enveloped_data(decode_content_info(message));
    const bytes& wrapped = data.key_agree_recipients.at(0).recipient_encrypted_keys.at(0).encrypted_key;

    const decrypt_result result = decrypt_as(flip_inside(message, wrapped, 5), pki_.p256_signer);

    EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
    EXPECT_NE(result.detail.find("key wrap"), std::string::npos) << result.detail;
    EXPECT_TRUE(result.content.empty());
  }
}

TEST_F(cms_reader_test, ChangedOriginatorPointIsDecryptionFailure) {
  const bytes message = encrypt_for(pki_.p384_signer, content_cipher::aes256_cbc);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  const bytes& point = data.key_agree_recipients.at(0).originator_key->public_key;

  // A changed x-coordinate leaves the point off the curve; a changed form octet is no point encoding.
  for (const size_t offset : {size_t{10}, size_t{0}}) {
    const decrypt_result result = decrypt_as(flip_inside(message, point, offset), pki_.p384_signer);

    EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
    EXPECT_NE(result.detail.find("not a valid point on secp384r1"), std::string::npos) << result.detail;
  }
}

TEST_F(cms_reader_test, OtherValidOriginatorPointIsDecryptionFailure) {
  const bytes message = encrypt_for(pki_.p256_signer, content_cipher::aes128_cbc);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  const bytes& point = data.key_agree_recipients.at(0).originator_key->public_key;
  // The recipient's own public key is a valid point that agrees on another secret.
  const auto own_key = pki_.p256_signer.certificate.load_subject_public_key();
  const bytes other_point =
      dynamic_cast<const Botan::EC_PublicKey&>(*own_key).public_point().encode(Botan::PointGFp::UNCOMPRESSED);
  ASSERT_EQ(other_point.size(), point.size());
  bytes changed = message;
  const auto found = std::search(changed.begin(), changed.end(), point.begin(), point.end());
  ASSERT_NE(found, changed.end());
  std::copy(other_point.begin(), other_point.end(), found);

  const decrypt_result result = decrypt_as(changed, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
  EXPECT_NE(result.detail.find("key wrap"), std::string::npos) << result.detail;
}

/// Replaces the first occurrence of `from` in `message` with `to`, which has the same length.
bytes replace_once(bytes message, const bytes& from, const bytes& to) {
  const auto found = std::search(message.begin(), message.end(), from.begin(), from.end());
  if (found == message.end())
    throw std::runtime_error("the bytes to replace are not in the message");
  std::copy(to.begin(), to.end(), found);
  return message;
}

TEST_F(cms_reader_test, UnsupportedKeyAgreementIsReported) {
  const bytes message = encrypt_for(pki_.p256_signer, content_cipher::aes256_cbc);
  // dhSinglePass-stdDH-sha256kdf-scheme (1.3.132.1.11.1) and aes256-wrap (2.16.840.1.101.3.4.1.45).
  const bytes std_dh_sha256 = {0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01};
  const bytes aes256_wrap = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};
  struct replacement {
    std::string name;
    bytes from;
    bytes to;
    std::string named_in_detail;
  };
  const std::vector<replacement> replacements = {
      // dhSinglePass-cofactorDH-sha256kdf-scheme (1.3.132.1.14.1)
      {"cofactor scheme", std_dh_sha256, {0x06, 0x06, 0x2b, 0x81, 0x04, 0x01, 0x0e, 0x01}, "1.3.132.1.14.1"},
      // aes256-wrap-pad (2.16.840.1.101.3.4.1.48)
      {"padded key wrap", aes256_wrap, {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x30},
       "key wrap"},
  };

  for (const replacement& change : replacements) {
    SCOPED_TRACE(change.name);

    const decrypt_result result = decrypt_as(replace_once(message, change.from, change.to), pki_.p256_signer);

    EXPECT_EQ(to_string(result.status), "unsupported_algorithm") << result.detail;
    EXPECT_NE(result.detail.find(change.named_in_detail), std::string::npos) << result.detail;
  }
}

TEST_F(cms_reader_test, BadKeyAgreeVersionIsMalformed) {
  bytes message = encrypt_for(pki_.p256_signer, content_cipher::aes256_cbc);
  // The kari starts with [1] (0xA1), a length, then version INTEGER 3 (02 01 03).
  const bytes version = {0x02, 0x01, 0x03, 0xa0};
  const auto found = std::search(message.begin(), message.end(), version.begin(), version.end());
  ASSERT_NE(found, message.end());
  *(found + 2) = 0x02;

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "malformed") << result.detail;
  EXPECT_NE(result.detail.find("KeyAgreeRecipientInfo.version"), std::string::npos) << result.detail;
}

TEST_F(cms_reader_test, ChangedGcmTagIsAuthenticationFailure) {
  for (const content_cipher cipher : {content_cipher::aes128_gcm, content_cipher::aes256_gcm}) {
    bytes message = encrypt_for(pki_.alice, cipher);
    message.back() ^= 0x01;  // the mac is the last field of AuthEnvelopedData

    EXPECT_EQ(to_string(decrypt_as(message, pki_.alice).status), "authentication_failed");
  }
}

TEST_F(cms_reader_test, ChangedGcmCiphertextIsAuthenticationFailure) {
  bytes message = encrypt_for(pki_.alice, content_cipher::aes256_gcm);
  // The ciphertext ends just before the mac OCTET STRING (2 header bytes, 16 tag bytes).
  message[message.size() - 18 - 5] ^= 0x01;

  EXPECT_EQ(to_string(decrypt_as(message, pki_.alice).status), "authentication_failed");
}

TEST_F(cms_reader_test, ChangedCbcPaddingIsDecryptionFailure) {
  for (const content_cipher cipher : {content_cipher::aes128_cbc, content_cipher::aes192_cbc,
                                      content_cipher::aes256_cbc}) {
    bytes message = encrypt_for(pki_.alice, cipher);
    // The ciphertext is the last field. Flipping every bit of the last byte of
    // the second-to-last block turns the final padding byte (1 to 16) into
    // 0xEF or more, which is never valid padding.
    message[message.size() - 17] ^= 0xFF;

    EXPECT_EQ(to_string(decrypt_as(message, pki_.alice).status), "decryption_failed");
  }
}

TEST_F(cms_reader_test, ChangedEncryptedKeyFailsGcm) {
  const bytes message = encrypt_for(pki_.alice, content_cipher::aes128_gcm);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  const bytes& key = data.key_trans_recipients[0].encrypted_key;
  bytes changed = message;
  const auto found = std::search(changed.begin(), changed.end(), key.begin(), key.end());
  ASSERT_NE(found, changed.end());
  *(found + 10) ^= 0x01;

  EXPECT_EQ(to_string(decrypt_as(changed, pki_.alice).status), "authentication_failed");
}

TEST_F(cms_reader_test, SignedDataIsNotEnvelopedData) {
  EXPECT_EQ(to_string(decrypt_as(sign_with(pki_.rsa_signer, false), pki_.alice).status), "malformed");
}

TEST_F(cms_reader_test, GarbageIsMalformed) {
  for (const std::string& garbage : {std::string(""), std::string("\x30"), std::string("\x30\x80"),
                                     std::string("\x30\x03\x06\x01\x00"), std::string(200, '\xff')}) {
    EXPECT_EQ(to_string(decrypt_as(to_bytes(garbage), pki_.alice).status), "malformed");
    EXPECT_EQ(to_string(verify_signed_data(to_bytes(garbage), trusting_root()).status), "malformed");
  }
}

TEST_F(cms_reader_test, ContentKindIsDetected) {
  EXPECT_EQ(detect_content_kind(sign_with(pki_.rsa_signer, true)), content_kind::signed_data);
  EXPECT_EQ(detect_content_kind(encrypt_for(pki_.alice, content_cipher::aes128_cbc)), content_kind::enveloped_data);
  EXPECT_EQ(detect_content_kind(encrypt_for(pki_.alice, content_cipher::aes128_gcm)),
            content_kind::auth_enveloped_data);
  EXPECT_EQ(detect_content_kind(to_bytes("not BER")), content_kind::malformed);
}

// X.690 8.1.3.6 and 8.7.3: the same SEQUENCE { OCTET STRING "abcd" } with an
// indefinite length and a constructed string in two segments.
TEST_F(cms_reader_test, IndefiniteLengthsBecomeDefinite) {
  const bytes indefinite = {0x30, 0x80, 0x24, 0x80, 0x04, 0x02, 'a', 'b', 0x04, 0x02, 'c', 'd', 0x00, 0x00, 0x00, 0x00};
  const bytes definite = {0x30, 0x0a, 0x24, 0x08, 0x04, 0x02, 'a', 'b', 0x04, 0x02, 'c', 'd'};

  EXPECT_EQ(ber::to_definite_lengths(indefinite), definite);

  Botan::BER_Decoder decoder(definite);
  Botan::BER_Decoder sequence(decoder.get_next_object());
  EXPECT_EQ(ber::octet_string(sequence.get_next_object(), "test"), to_bytes("abcd"));
}

TEST_F(cms_reader_test, BadBerIsRejected) {
  const std::vector<bytes> cases = {
      {0x30, 0x80, 0x04, 0x01, 'a'},              // no end-of-contents marker
      {0x04, 0x80, 'a', 0x00, 0x00},              // primitive with indefinite length
      {0x30, 0x05, 0x04, 0x01, 'a'},              // length beyond the input
      {0x30, 0x03, 0x04, 0x02, 'a', 'b'},         // child overruns its parent
      {0x30, 0x00, 0x00},                         // data after the element
      {0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01}, // length field too long
  };
  for (const bytes& input : cases) {
    SCOPED_TRACE(Botan::hex_encode(input));
    EXPECT_THROW(ber::to_definite_lengths(input), decode_error);
  }
}

TEST_F(cms_reader_test, DeepNestingIsRejected) {
  bytes nested;
  for (int i = 0; i < 100; ++i) {
    nested.push_back(0x30);
    nested.push_back(0x80);
  }
  nested.insert(nested.end(), 200, 0x00);

  EXPECT_THROW(ber::to_definite_lengths(nested), decode_error);
}

} // namespace
} // namespace router::cms
