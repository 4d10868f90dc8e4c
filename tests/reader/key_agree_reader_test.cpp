// KeyAgreeRecipientInfo shapes that neither our encoder nor `openssl cms`
// writes: ukm, curve parameters in the originator key, NULL key wrap
// parameters, every KDF digest, a RecipientKeyIdentifier with a date, a
// compressed or infinite originator point, and static-static originators. Each message is built here field by field, with
// the X9.63 KDF computed from the hash directly rather than through Botan's
// KDF2, so the reader is checked against an independent derivation.
#include "runtime/cms/reader.hpp"
#include "tests/reader/reader_test_pki.hpp"

#include <botan/block_cipher.h>
#include <botan/cipher_mode.h>
#include <botan/der_enc.h>
#include <botan/ecdh.h>
#include <botan/hash.h>
#include <botan/nist_keywrap.h>
#include <botan/pubkey.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

namespace router::cms {
namespace {

using router::testing::reader_pki;
using router::testing::shared_reader_pki;
using router::testing::to_bytes;

const Botan::OID id_data{1, 2, 840, 113549, 1, 7, 1};
const Botan::OID id_enveloped_data{1, 2, 840, 113549, 1, 7, 3};
const Botan::OID id_ec_public_key{1, 2, 840, 10045, 2, 1};
const Botan::OID id_aes128_cbc{2, 16, 840, 1, 101, 3, 4, 1, 2};
const Botan::OID id_aes128_wrap{2, 16, 840, 1, 101, 3, 4, 1, 5};
const Botan::OID id_secp256r1{1, 2, 840, 10045, 3, 1, 7};
const Botan::OID id_secp384r1{1, 3, 132, 0, 34};

/// A dhSinglePass-stdDH scheme and the hash of its X9.63 KDF.
struct kdf_scheme {
  Botan::OID oid;
  std::string hash;
};

const kdf_scheme sha1_kdf{Botan::OID{1, 3, 133, 16, 840, 63, 0, 2}, "SHA-160"};
const kdf_scheme sha224_kdf{Botan::OID{1, 3, 132, 1, 11, 0}, "SHA-224"};
const kdf_scheme sha256_kdf{Botan::OID{1, 3, 132, 1, 11, 1}, "SHA-256"};
const kdf_scheme sha384_kdf{Botan::OID{1, 3, 132, 1, 11, 2}, "SHA-384"};
const kdf_scheme sha512_kdf{Botan::OID{1, 3, 132, 1, 11, 3}, "SHA-512"};

const bytes content = to_bytes("Content-Type: text/plain\r\n\r\nkey agreement variant\r\n");

/// The fields of a hand-built KeyAgreeRecipientInfo that a test changes.
struct kari_shape {
  kdf_scheme scheme = sha256_kdf;
  std::optional<bytes> ukm;
  std::optional<Botan::OID> originator_curve;  // namedCurve parameters of the originator key; absent when unset
  bool null_wrap_parameters = false;
  bool static_static_originator = false;  // names the originator by issuerAndSerialNumber instead of a key
  bool rid_with_date = false;             // rKeyId with its subjectKeyIdentifier and a date
  bool compressed_point = false;           // the ephemeral public key in compressed form
  std::optional<bytes> originator_point;  // replaces the ephemeral public key's encoding
};

/// Returns Hash(Z || 00000001 || SharedInfo) cut to `length` octets: the
/// X9.63 KDF for a key no longer than one hash output.
Botan::secure_vector<uint8_t> x963_kdf(const std::string& hash_name, const Botan::secure_vector<uint8_t>& z,
                                       const bytes& shared_info, size_t length) {
  const auto hash = Botan::HashFunction::create_or_throw(hash_name);
  hash->update(z);
  hash->update_be(uint32_t{1});
  hash->update(shared_info);
  Botan::secure_vector<uint8_t> key = hash->final();
  key.resize(length);
  return key;
}

bytes shared_info_for(const Botan::AlgorithmIdentifier& wrap, const std::optional<bytes>& ukm) {
  const bytes key_bits = {0x00, 0x00, 0x00, 0x80};  // 128-bit key-encryption key
  bytes out;
  Botan::DER_Encoder der(out);
  der.start_cons(Botan::SEQUENCE).encode(wrap);
  if (ukm)
    der.start_explicit(0).encode(*ukm, Botan::OCTET_STRING).end_explicit();
  der.start_explicit(2).encode(key_bits, Botan::OCTET_STRING).end_explicit().end_cons();
  return out;
}

class key_agree_reader_test : public ::testing::Test {
 protected:
  reader_pki& pki_ = shared_reader_pki();

  /// Builds an EnvelopedData with AES-128-CBC content and one KeyAgreeRecipientInfo for `recipient`.
  bytes build_message(const certs::issued_identity& recipient, const kari_shape& shape) {
    const Botan::secure_vector<uint8_t> content_key = pki_.rng.random_vec(16);
    bytes iv(16);
    pki_.rng.randomize(iv.data(), iv.size());
    auto mode = Botan::Cipher_Mode::create_or_throw("AES-128/CBC/PKCS7", Botan::ENCRYPTION);
    mode->set_key(content_key);
    mode->start(iv);
    Botan::secure_vector<uint8_t> ciphertext(content.begin(), content.end());
    mode->finish(ciphertext);

    bytes iv_parameter;
    Botan::DER_Encoder(iv_parameter).encode(iv, Botan::OCTET_STRING);

    bytes enveloped;
    Botan::DER_Encoder(enveloped)
        .start_cons(Botan::SEQUENCE)
        .encode(size_t{2})
        .start_cons(Botan::SET)
        .raw_bytes(key_agree_recipient_info(recipient, content_key, shape))
        .end_cons()
        .start_cons(Botan::SEQUENCE)
        .encode(id_data)
        .encode(Botan::AlgorithmIdentifier(id_aes128_cbc, iv_parameter))
        .encode(ciphertext, Botan::OCTET_STRING, Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC)
        .end_cons()
        .end_cons();

    bytes out;
    Botan::DER_Encoder(out)
        .start_cons(Botan::SEQUENCE)
        .encode(id_enveloped_data)
        .start_explicit(0)
        .raw_bytes(enveloped)
        .end_explicit()
        .end_cons();
    return out;
  }

  bytes key_agree_recipient_info(const certs::issued_identity& recipient,
                                 const Botan::secure_vector<uint8_t>& content_key, const kari_shape& shape) {
    const auto public_key = recipient.certificate.load_subject_public_key();
    const auto& ec_key = dynamic_cast<const Botan::EC_PublicKey&>(*public_key);
    const Botan::ECDH_PrivateKey ephemeral(pki_.rng, ec_key.domain());
    Botan::PK_Key_Agreement agreement(ephemeral, pki_.rng, "Raw");
    const Botan::secure_vector<uint8_t> z =
        agreement.derive_key(0, ec_key.public_point().encode(Botan::PointGFp::UNCOMPRESSED)).bits_of();

    const Botan::AlgorithmIdentifier wrap(id_aes128_wrap, shape.null_wrap_parameters
                                                              ? Botan::AlgorithmIdentifier::USE_NULL_PARAM
                                                              : Botan::AlgorithmIdentifier::USE_EMPTY_PARAM);
    const auto key_encryption_key = x963_kdf(shape.scheme.hash, z, shared_info_for(wrap, shape.ukm), 16);
    const auto aes = Botan::BlockCipher::create_or_throw("AES-128");
    aes->set_key(key_encryption_key);
    const bytes wrapped_key = Botan::nist_key_wrap(content_key.data(), content_key.size(), *aes);

    bytes wrap_parameter;
    Botan::DER_Encoder(wrap_parameter).encode(wrap);
    bytes curve_parameter;
    if (shape.originator_curve)
      Botan::DER_Encoder(curve_parameter).encode(*shape.originator_curve);

    bytes out;
    Botan::DER_Encoder der(out);
    der.start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC).encode(size_t{3}).start_explicit(0);
    if (shape.static_static_originator) {
      encode_issuer_and_serial(der, recipient.certificate);
    } else {
      der.start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC)
          .encode(Botan::AlgorithmIdentifier(id_ec_public_key, curve_parameter))
          .encode(originator_point(ephemeral, shape), Botan::BIT_STRING)
          .end_cons();
    }
    der.end_explicit();
    if (shape.ukm)
      der.start_explicit(1).encode(*shape.ukm, Botan::OCTET_STRING).end_explicit();
    der.encode(Botan::AlgorithmIdentifier(shape.scheme.oid, wrap_parameter));
    der.start_cons(Botan::SEQUENCE).start_cons(Botan::SEQUENCE);
    if (shape.rid_with_date) {
      der.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC)
          .encode(recipient.certificate.subject_key_id(), Botan::OCTET_STRING)
          .encode(Botan::X509_Time("20260101000000Z", Botan::GENERALIZED_TIME))
          .end_cons();
    } else {
      encode_issuer_and_serial(der, recipient.certificate);
    }
    der.encode(wrapped_key, Botan::OCTET_STRING).end_cons().end_cons().end_cons();
    return out;
  }

  static bytes originator_point(const Botan::ECDH_PrivateKey& ephemeral, const kari_shape& shape) {
    if (shape.originator_point)
      return *shape.originator_point;
    if (shape.compressed_point)
      return ephemeral.public_point().encode(Botan::PointGFp::COMPRESSED);
    return ephemeral.public_value();
  }

  static void encode_issuer_and_serial(Botan::DER_Encoder& der, const Botan::X509_Certificate& certificate) {
    der.start_cons(Botan::SEQUENCE)
        .raw_bytes(certificate.raw_issuer_dn())
        .encode(Botan::BigInt::decode(certificate.serial_number()))
        .end_cons();
  }

  decrypt_result decrypt_as(const bytes& message, const certs::issued_identity& recipient) {
    return decrypt(message, *recipient.private_key, recipient.certificate, pki_.rng);
  }
};

TEST_F(key_agree_reader_test, EveryKdfDigestDecrypts) {
  for (const kdf_scheme& scheme : {sha1_kdf, sha224_kdf, sha256_kdf, sha384_kdf, sha512_kdf}) {
    for (const certs::issued_identity* recipient : {&pki_.p256_signer, &pki_.p384_signer}) {
      SCOPED_TRACE(scheme.hash + " " + recipient->certificate.subject_dn().to_string());
      kari_shape shape;
      shape.scheme = scheme;

      const decrypt_result result = decrypt_as(build_message(*recipient, shape), *recipient);

      EXPECT_EQ(to_string(result.status), "ok") << result.detail;
      EXPECT_EQ(result.content, content);
    }
  }
}

TEST_F(key_agree_reader_test, UkmEntersSharedInfo) {
  kari_shape shape;
  shape.ukm = bytes(64, 0x5a);
  const bytes message = build_message(pki_.p256_signer, shape);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  ASSERT_EQ(data.key_agree_recipients.size(), 1u);
  EXPECT_EQ(data.key_agree_recipients[0].ukm, shape.ukm);

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "ok") << result.detail;
  EXPECT_EQ(result.content, content);
}

TEST_F(key_agree_reader_test, ChangedUkmIsDecryptionFailure) {
  kari_shape shape;
  shape.ukm = bytes(16, 0x5a);
  bytes message = build_message(pki_.p256_signer, shape);
  const bytes ukm_element = {0x04, 0x10, 0x5a, 0x5a};
  const auto found = std::search(message.begin(), message.end(), ukm_element.begin(), ukm_element.end());
  ASSERT_NE(found, message.end());
  *(found + 2) ^= 0x01;

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
  EXPECT_NE(result.detail.find("key wrap"), std::string::npos) << result.detail;
}

TEST_F(key_agree_reader_test, OriginatorCurveParametersAccepted) {
  kari_shape shape;
  shape.originator_curve = id_secp384r1;

  const decrypt_result result = decrypt_as(build_message(pki_.p384_signer, shape), pki_.p384_signer);

  EXPECT_EQ(to_string(result.status), "ok") << result.detail;
  EXPECT_EQ(result.content, content);
}

TEST_F(key_agree_reader_test, OriginatorOnOtherCurveIsDecryptionFailure) {
  kari_shape shape;
  shape.originator_curve = id_secp256r1;

  const decrypt_result result = decrypt_as(build_message(pki_.p384_signer, shape), pki_.p384_signer);

  EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
  EXPECT_NE(result.detail.find("secp256r1"), std::string::npos) << result.detail;
}

TEST_F(key_agree_reader_test, NullWrapParametersDecrypt) {
  kari_shape shape;
  shape.null_wrap_parameters = true;

  const decrypt_result result = decrypt_as(build_message(pki_.p256_signer, shape), pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "ok") << result.detail;
  EXPECT_EQ(result.content, content);
}

TEST_F(key_agree_reader_test, RecipientKeyIdentifierWithDateDecrypts) {
  kari_shape shape;
  shape.rid_with_date = true;
  const bytes message = build_message(pki_.p256_signer, shape);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  ASSERT_EQ(data.key_agree_recipients.size(), 1u);
  ASSERT_EQ(data.key_agree_recipients[0].recipient_encrypted_keys.size(), 1u);
  EXPECT_TRUE(data.key_agree_recipients[0].recipient_encrypted_keys[0].rid.by_key_identifier);

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "ok") << result.detail;
  EXPECT_EQ(result.content, content);
  EXPECT_EQ(to_string(decrypt_as(message, pki_.p384_signer).status), "recipient_not_found");
}

TEST_F(key_agree_reader_test, StaticStaticOriginatorIsUnsupported) {
  kari_shape shape;
  shape.static_static_originator = true;
  const bytes message = build_message(pki_.p256_signer, shape);
  const enveloped_data data = decode_enveloped_data(decode_content_info(message));
  ASSERT_EQ(data.key_agree_recipients.size(), 1u);
  EXPECT_FALSE(data.key_agree_recipients[0].originator_key.has_value());
  ASSERT_TRUE(data.key_agree_recipients[0].originator_certificate.has_value());
  EXPECT_TRUE(data.key_agree_recipients[0].originator_certificate->matches(pki_.p256_signer.certificate));

  const decrypt_result result = decrypt_as(message, pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "unsupported_algorithm") << result.detail;
  EXPECT_NE(result.detail.find("static-static"), std::string::npos) << result.detail;
}

TEST_F(key_agree_reader_test, PointAtInfinityIsDecryptionFailure) {
  kari_shape shape;
  shape.originator_point = bytes{0x00};  // one zero octet encodes the point at infinity

  const decrypt_result result = decrypt_as(build_message(pki_.p256_signer, shape), pki_.p256_signer);

  EXPECT_EQ(to_string(result.status), "decryption_failed") << result.detail;
  EXPECT_NE(result.detail.find("not a valid point"), std::string::npos) << result.detail;
}

TEST_F(key_agree_reader_test, CompressedOriginatorPointDecrypts) {
  kari_shape shape;
  shape.compressed_point = true;

  const decrypt_result result = decrypt_as(build_message(pki_.p384_signer, shape), pki_.p384_signer);

  EXPECT_EQ(to_string(result.status), "ok") << result.detail;
  EXPECT_EQ(result.content, content);
}

} // namespace
} // namespace router::cms
