// KeyTransRecipientInfo for RSA certificates and KeyAgreeRecipientInfo for EC
// certificates on P-256 and P-384.
//
// Key transport is RSA PKCS#1 v1.5 or RSAES-OAEP (SHA-256, MGF1 with SHA-256,
// empty label). Key agreement is ephemeral-static ECDH with
// dhSinglePass-stdDH-sha256kdf-scheme (RFC 5753): the X9.63 KDF with SHA-256
// derives the key-encryption key, and AES key wrap (RFC 3394) wraps the
// content-encryption key. The originator is always an OriginatorPublicKey and
// ukm is absent. Each RecipientInfo names one recipient.
#include "runtime/cms/recipient_info.hpp"

#include "runtime/cms/encoding.hpp"
#include "runtime/cms/key_agreement.hpp"
#include "runtime/common/error.hpp"

#include <botan/block_cipher.h>
#include <botan/ec_group.h>
#include <botan/ecc_key.h>
#include <botan/ecdh.h>
#include <botan/nist_keywrap.h>
#include <botan/pubkey.h>

namespace router::cms {

namespace {

using namespace encoding;
using key_agreement::key_wrap;

Botan::AlgorithmIdentifier key_transport_algorithm(key_transport transport) {
  if (transport == key_transport::rsa_pkcs1v15)
    return Botan::AlgorithmIdentifier(rsa_encryption, Botan::AlgorithmIdentifier::USE_NULL_PARAM);

  // RSAES-OAEP-params (RFC 3560, RFC 8017): hashFunc and maskGenFunc are
  // explicitly tagged, and pSourceFunc keeps its default (empty label), so DER
  // omits it. SHA-256 identifiers are written with absent parameters.
  const Botan::AlgorithmIdentifier sha256(id_sha256, Botan::AlgorithmIdentifier::USE_EMPTY_PARAM);
  bytes mgf1_parameters;
  Botan::DER_Encoder(mgf1_parameters).encode(sha256);

  bytes parameters;
  Botan::DER_Encoder(parameters)
      .start_cons(Botan::SEQUENCE)
      .start_explicit(0)  // hashFunc [0]
      .encode(sha256)
      .end_explicit()
      .start_explicit(1)  // maskGenFunc [1]
      .encode(Botan::AlgorithmIdentifier(id_mgf1, mgf1_parameters))
      .end_explicit()
      .end_cons();
  return Botan::AlgorithmIdentifier(id_rsaes_oaep, parameters);
}

std::string botan_padding(key_transport transport) {
  if (transport == key_transport::rsa_pkcs1v15)
    return "EME-PKCS1-v1_5";
  return "OAEP(SHA-256,MGF1(SHA-256))";
}

/// Returns the certificate's subjectKeyIdentifier extension when the recipient
/// requests to be named by it, else an empty vector. Botan reads the value from the
/// extension and never computes one.
const std::vector<uint8_t>& subject_key_id_for(const recipient& recipient) {
  static const std::vector<uint8_t> none;
  if (recipient.identifier != recipient_identifier::subject_key_identifier)
    return none;
  return recipient.certificate->subject_key_id();
}

bool is_supported_curve(const Botan::EC_Group& group) {
  return group == Botan::EC_Group("secp256r1") || group == Botan::EC_Group("secp384r1");
}

/// Returns the recipient's public key: the preloaded one, else one loaded into `loaded`.
const Botan::Public_Key& public_key_of(const recipient& recipient, std::unique_ptr<Botan::Public_Key>& loaded) {
  if (recipient.public_key != nullptr)
    return *recipient.public_key;
  loaded = recipient.certificate->load_subject_public_key();
  return *loaded;
}

bytes encode_key_trans_recipient_info(const recipient& recipient, const Botan::secure_vector<uint8_t>& content_key,
                                      Botan::RandomNumberGenerator& rng) {
  std::unique_ptr<Botan::Public_Key> loaded;
  const Botan::Public_Key* public_key = &public_key_of(recipient, loaded);
  Botan::PK_Encryptor_EME encryptor(*public_key, rng, botan_padding(recipient.transport));
  const auto encrypted_key = encryptor.encrypt(content_key, rng);
  const std::vector<uint8_t>& subject_key_id = subject_key_id_for(recipient);

  bytes out;
  Botan::DER_Encoder der(out);
  der.start_cons(Botan::SEQUENCE);
  // version 0 with issuerAndSerialNumber, 2 with subjectKeyIdentifier (RFC 5652 6.2.1)
  der.encode(subject_key_id.empty() ? size_t{0} : size_t{2});
  if (subject_key_id.empty())
    encode_issuer_and_serial_number(der, *recipient.certificate);                              // rid
  else
    der.encode(subject_key_id, Botan::OCTET_STRING, Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC);  // rid [0] IMPLICIT
  der.encode(key_transport_algorithm(recipient.transport));  // keyEncryptionAlgorithm
  der.encode(encrypted_key, Botan::OCTET_STRING);            // encryptedKey
  der.end_cons();
  return out;
}

/// The key agreement scheme of every KeyAgreeRecipientInfo written here.
const Botan::OID& key_agreement_scheme = dh_single_pass_std_dh_sha256kdf_scheme;

/// Returns the AlgorithmIdentifier of the key wrap, whose parameters are absent
/// (RFC 3565 section 2.3.2).
Botan::AlgorithmIdentifier key_wrap_algorithm(const key_wrap& wrap) {
  return Botan::AlgorithmIdentifier(*wrap.oid, Botan::AlgorithmIdentifier::USE_EMPTY_PARAM);
}

/// Returns keyEncryptionAlgorithm: the key agreement scheme with the key wrap
/// algorithm as its parameters (RFC 5753 section 3.1.1).
Botan::AlgorithmIdentifier key_agreement_algorithm(const key_wrap& wrap) {
  bytes parameters;
  Botan::DER_Encoder(parameters).encode(key_wrap_algorithm(wrap));
  return Botan::AlgorithmIdentifier(key_agreement_scheme, parameters);
}

/// Wraps the content key for the recipient's EC key with a fresh ephemeral key
/// and returns the wrapped key and the ephemeral public point.
struct agreed_wrap {
  std::vector<uint8_t> wrapped_key;
  std::vector<uint8_t> ephemeral_public_point;
};

agreed_wrap wrap_with_ecdh(const Botan::EC_PublicKey& recipient_key, const key_wrap& wrap,
                           const Botan::secure_vector<uint8_t>& content_key, Botan::RandomNumberGenerator& rng) {
  const Botan::ECDH_PrivateKey ephemeral(rng, recipient_key.domain());
  const Botan::secure_vector<uint8_t> shared_secret =
      key_agreement::agree(ephemeral, recipient_key.public_point().encode(Botan::PointGFp::UNCOMPRESSED), rng);

  const bytes shared_info = key_agreement::encode_shared_info(key_wrap_algorithm(wrap), wrap.key_length, std::nullopt);
  const Botan::secure_vector<uint8_t> key_encryption_key =
      key_agreement::derive_key_encryption_key(key_agreement::kdf_hash_for_scheme(key_agreement_scheme), shared_secret, shared_info, wrap.key_length);

  const auto cipher = Botan::BlockCipher::create_or_throw(wrap.botan_cipher);
  cipher->set_key(key_encryption_key);
  return {Botan::nist_key_wrap(content_key.data(), content_key.size(), *cipher), ephemeral.public_value()};
}

bytes encode_key_agree_recipient_info(const recipient& recipient, const Botan::secure_vector<uint8_t>& content_key,
                                      Botan::RandomNumberGenerator& rng) {
  std::unique_ptr<Botan::Public_Key> loaded;
  const auto* ec_key = dynamic_cast<const Botan::EC_PublicKey*>(&public_key_of(recipient, loaded));
  if (ec_key == nullptr || !is_supported_curve(ec_key->domain()))
    throw router_error("cannot encrypt for " + describe(*recipient.certificate) +
                       ": its EC key is not on P-256 or P-384; register a certificate on one of these curves");

  const key_wrap wrap = key_agreement::key_wrap_for_content_key(content_key.size());
  const agreed_wrap agreed = wrap_with_ecdh(*ec_key, wrap, content_key, rng);
  const std::vector<uint8_t>& subject_key_id = subject_key_id_for(recipient);

  // RecipientInfo's kari alternative is [1] IMPLICIT, so that tag replaces the SEQUENCE tag.
  bytes out;
  Botan::DER_Encoder der(out);
  der.start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC);
  der.encode(size_t{3});  // version: always 3 (RFC 5652 6.2.2)
  der.start_explicit(0)   // originator [0] EXPLICIT, the originatorKey [1] alternative
      .start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC)
      // RFC 5753 section 3.1.1 allows absent parameters: the curve is the recipient's.
      .encode(Botan::AlgorithmIdentifier(id_ec_public_key, Botan::AlgorithmIdentifier::USE_EMPTY_PARAM))
      .encode(agreed.ephemeral_public_point, Botan::BIT_STRING)  // publicKey, uncompressed point
      .end_cons()
      .end_explicit();
  // ukm is absent.
  der.encode(key_agreement_algorithm(wrap));  // keyEncryptionAlgorithm
  der.start_cons(Botan::SEQUENCE)             // recipientEncryptedKeys
      .start_cons(Botan::SEQUENCE);           // RecipientEncryptedKey
  if (subject_key_id.empty()) {
    encode_issuer_and_serial_number(der, *recipient.certificate);  // rid
  } else {
    der.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC)  // rid: rKeyId [0] IMPLICIT RecipientKeyIdentifier
        .encode(subject_key_id, Botan::OCTET_STRING)                // subjectKeyIdentifier
        .end_cons();
  }
  der.encode(agreed.wrapped_key, Botan::OCTET_STRING);  // encryptedKey
  der.end_cons().end_cons();
  der.end_cons();
  return out;
}

} // namespace

bool uses_key_agreement(const Botan::X509_Certificate& certificate) {
  const std::string algorithm = public_key_algorithm(certificate);
  return algorithm == "ECDSA" || algorithm == "ECDH";
}

std::string recipient_key_problem(const Botan::X509_Certificate& certificate) {
  const std::string algorithm = public_key_algorithm(certificate);
  if (algorithm == "RSA")
    return "";
  if (!uses_key_agreement(certificate))
    return "its certificate has a " + algorithm +
           " key, which cannot receive encrypted mail; register an RSA certificate or an EC one on P-256 or P-384";

  const auto public_key = certificate.load_subject_public_key();
  const auto* ec_key = dynamic_cast<const Botan::EC_PublicKey*>(public_key.get());
  if (ec_key == nullptr || !is_supported_curve(ec_key->domain()))
    return "its certificate has an EC key on a curve other than P-256 and P-384; register a certificate on one of these";
  return "";
}

namespace recipient_info {

bytes encode(const recipient& recipient, const Botan::secure_vector<uint8_t>& content_key,
             Botan::RandomNumberGenerator& rng) {
  if (uses_key_agreement(*recipient.certificate))
    return encode_key_agree_recipient_info(recipient, content_key, rng);
  return encode_key_trans_recipient_info(recipient, content_key, rng);
}

size_t version(const recipient& recipient) {
  if (uses_key_agreement(*recipient.certificate))
    return 3;
  return subject_key_id_for(recipient).empty() ? 0 : 2;
}

} // namespace recipient_info

} // namespace router::cms
