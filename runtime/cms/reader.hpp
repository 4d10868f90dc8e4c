// Reading side of CMS (RFC 5652, RFC 5083): decoding, SignedData verification
// and (Auth)EnvelopedData decryption.
//
// Input is BER as other producers write it, indefinite lengths and constructed
// OCTET STRINGs included. The decode_* functions throw cms::decode_error on
// malformed input. verify_signed_data() and decrypt() catch it and return a
// result whose status names the reason for the rejection, so a bad message
// reaches their callers as a value, not an exception. Pure: no I/O, no clock
// reads.
//
// Limits: one certificate per signer is looked up among the embedded and the
// extra certificates. Revocation is not checked, and signers of a digest other
// than SHA-224/256/384/512 are rejected. KeyTransRecipientInfo (RSA) and
// KeyAgreeRecipientInfo (ephemeral-static ECDH, RFC 5753) are decrypted;
// static-static ECDH originators are decoded but not decrypted, and
// KEKRecipientInfo, PasswordRecipientInfo and OtherRecipientInfo are skipped.
#pragma once

#include "runtime/cms/cms.hpp"
#include "runtime/common/error.hpp"

#include <botan/asn1_obj.h>
#include <botan/bigint.h>
#include <botan/pkix_types.h>

#include <optional>

namespace router::cms {

/// Malformed CMS input: the message names the structure and the field.
class decode_error : public router_error {
 public:
  using router_error::router_error;
};

// ---- decoded structures, one member per ASN.1 field ----------------------

/// ContentInfo (RFC 5652 section 3); `content` is the element inside [0] EXPLICIT.
struct content_info {
  Botan::OID content_type;
  Botan::BER_Object content;
};

/// SignerIdentifier or RecipientIdentifier: issuerAndSerialNumber or subjectKeyIdentifier.
struct certificate_identifier {
  bool by_key_identifier = false;
  Botan::X509_DN issuer;          // issuerAndSerialNumber only
  Botan::BigInt serial_number;    // issuerAndSerialNumber only
  bytes subject_key_identifier;   // subjectKeyIdentifier only

  /// Returns true when this identifies the certificate.
  bool matches(const Botan::X509_Certificate& certificate) const;

  /// Returns the identifier as text for messages.
  std::string to_string() const;
};

/// Attribute (RFC 5652 section 5.3): one type, its values as encoded elements.
struct attribute {
  Botan::OID type;
  std::vector<bytes> values;
};

/// SignerInfo (RFC 5652 section 5.3). Unsigned attributes are skipped.
struct signer_info {
  size_t version = 0;
  certificate_identifier sid;
  Botan::AlgorithmIdentifier digest_algorithm;
  std::optional<bytes> signed_attributes_der;  // SET OF Attribute with tag 0x31, the signed bytes
  std::vector<attribute> signed_attributes;
  Botan::AlgorithmIdentifier signature_algorithm;
  bytes signature;
};

/// SignedData (RFC 5652 section 5.1). CRLs are skipped, and so are certificate
/// choices other than a plain X.509 certificate.
struct signed_data {
  size_t version = 0;
  std::vector<Botan::AlgorithmIdentifier> digest_algorithms;
  Botan::OID encapsulated_content_type;
  std::optional<bytes> encapsulated_content;  // absent when detached
  std::vector<Botan::X509_Certificate> certificates;
  std::vector<signer_info> signer_infos;
};

/// KeyTransRecipientInfo (RFC 5652 section 6.2.1).
struct key_trans_recipient_info {
  size_t version = 0;
  certificate_identifier rid;
  Botan::AlgorithmIdentifier key_encryption_algorithm;
  bytes encrypted_key;
};

/// OriginatorPublicKey (RFC 5652 section 6.2.2): the originator's ephemeral key.
struct originator_public_key {
  Botan::AlgorithmIdentifier algorithm;  // id-ecPublicKey; absent or NULL parameters mean the recipient's curve
  bytes public_key;                      // the BIT STRING's octets, an encoded ECPoint (RFC 5480 section 2.2)
};

/// RecipientEncryptedKey (RFC 5652 section 6.2.2). An rKeyId's date and other
/// fields are skipped, so only its subjectKeyIdentifier is kept in `rid`.
struct recipient_encrypted_key {
  certificate_identifier rid;
  bytes encrypted_key;
};

/// KeyAgreeRecipientInfo (RFC 5652 section 6.2.2). The originator is either an
/// OriginatorPublicKey (ephemeral-static, RFC 5753) or the identifier of the
/// originator's certificate (static-static), and exactly one of the two is set.
struct key_agree_recipient_info {
  size_t version = 0;
  std::optional<originator_public_key> originator_key;
  std::optional<certificate_identifier> originator_certificate;
  std::optional<bytes> ukm;
  Botan::AlgorithmIdentifier key_encryption_algorithm;  // parameters: the key wrap AlgorithmIdentifier
  std::vector<recipient_encrypted_key> recipient_encrypted_keys;
};

/// EncryptedContentInfo (RFC 5652 section 6.1).
struct encrypted_content_info {
  Botan::OID content_type;
  Botan::AlgorithmIdentifier content_encryption_algorithm;
  std::optional<bytes> encrypted_content;
};

/// EnvelopedData (RFC 5652 section 6.1) or AuthEnvelopedData (RFC 5083 section 2.1).
struct enveloped_data {
  bool authenticated = false;  // true for AuthEnvelopedData
  size_t version = 0;
  std::vector<key_trans_recipient_info> key_trans_recipients;
  std::vector<key_agree_recipient_info> key_agree_recipients;
  size_t other_recipient_count = 0;  // kekri, pwri and ori, which are not decrypted
  encrypted_content_info encrypted_content;
  std::optional<bytes> authenticated_attributes_der;  // AuthEnvelopedData: authAttrs as a SET, the GCM AAD
  bytes mac;                                           // AuthEnvelopedData only
};

/// Decodes a BER ContentInfo; throws decode_error.
content_info decode_content_info(const bytes& ber);

/// Decodes the SignedData of a ContentInfo; throws decode_error.
signed_data decode_signed_data(const content_info& info);

/// Decodes the EnvelopedData or AuthEnvelopedData of a ContentInfo; throws decode_error.
enveloped_data decode_enveloped_data(const content_info& info);

/// Content type of a ContentInfo, as far as this module distinguishes them.
enum class content_kind { data, signed_data, enveloped_data, auth_enveloped_data, compressed_data, other, malformed };

/// Returns the content type of a BER ContentInfo without decoding its content.
content_kind detect_content_kind(const bytes& ber);

// ---- verification ---------------------------------------------------------

enum class verify_status {
  ok,
  malformed,              // not a decodable SignedData, or required attributes missing
  unsupported_algorithm,  // digest or signature algorithm this module does not verify
  signer_not_found,       // no certificate matches the signer identifier
  digest_mismatch,        // messageDigest differs from the digest of the content
  bad_signature,          // the signature does not verify with the signer's key
  wrong_key_usage,        // signer certificate not for digital signatures or e-mail
  untrusted,              // no chain to a trust anchor (missing intermediate, unknown root)
  expired,                // a certificate of the chain has expired at the validation time
  not_yet_valid,          // a certificate of the chain is not valid yet at the validation time
};

/// Returns the snake_case name of a status ("digest_mismatch", ...).
std::string to_string(verify_status status);

struct verify_options {
  std::vector<Botan::X509_Certificate> trust_anchors;
  std::vector<Botan::X509_Certificate> extra_certificates;  // intermediates that the message lacks
  std::chrono::system_clock::time_point validation_time;
};

struct verify_result {
  verify_status status = verify_status::malformed;
  std::string signer_subject;  // empty until the signer certificate is found
  std::string detail;          // what failed, for people
  bytes content;               // the content that was verified

  bool ok() const { return status == verify_status::ok; }
};

/// Verifies a SignedData that encapsulates its content. Every SignerInfo must
/// verify; the result describes the first one that does not.
verify_result verify_signed_data(const bytes& ber, const verify_options& options);

/// Verifies a detached SignedData over external content.
verify_result verify_signed_data(const bytes& ber, const bytes& detached_content, const verify_options& options);

// ---- decryption -----------------------------------------------------------

enum class decrypt_status {
  ok,
  malformed,              // not a decodable EnvelopedData or AuthEnvelopedData
  unsupported_algorithm,  // content or key encryption algorithm not handled here
  key_mismatch,           // the private key does not belong to the given certificate
  recipient_not_found,    // no KeyTransRecipientInfo or KeyAgreeRecipientInfo names the given certificate
  decryption_failed,      // bad padding, key wrap or originator key (tampering or wrong key)
  authentication_failed,  // AES-GCM tag check failed (AuthEnvelopedData)
};

/// Returns the snake_case name of a status ("recipient_not_found", ...).
std::string to_string(decrypt_status status);

struct decrypt_result {
  decrypt_status status = decrypt_status::malformed;
  std::string detail;
  bytes content;

  bool ok() const { return status == decrypt_status::ok; }
};

/// Decrypts an EnvelopedData (AES-CBC) or AuthEnvelopedData (AES-GCM) with the
/// recipient's key and certificate. An RSA key reads a KeyTransRecipientInfo
/// (PKCS#1 v1.5 or RSAES-OAEP). An RSA content-encryption key that fails to
/// decrypt is replaced by a random one, so a bad key shows up as
/// decryption_failed or authentication_failed and never as a separate padding
/// error. An EC key reads a KeyAgreeRecipientInfo (dhSinglePass-stdDH with a
/// SHA-1 or SHA-2 X9.63 KDF, AES key wrap), and a wrapped key that fails the
/// key wrap integrity check is decryption_failed. Any other recipient key is
/// unsupported_algorithm.
decrypt_result decrypt(const bytes& ber, const Botan::Private_Key& key, const Botan::X509_Certificate& certificate,
                       Botan::RandomNumberGenerator& rng);

} // namespace router::cms
