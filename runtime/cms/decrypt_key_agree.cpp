// Recovery of the content-encryption key from a KeyAgreeRecipientInfo with
// ephemeral-static ECDH (RFC 5652 section 6.2.2, RFC 5753 section 3.1).
//
// Key agreement: dhSinglePass-stdDH-sha1kdf-scheme and the sha224 to sha512
// variants, on any curve that Botan 2.19 supports (the router's own
// certificates are P-256 or P-384, and tests also cover P-521). Key wrap: AES-128/192/256 key wrap (RFC 3394). Not
// supported: static-static originators (named by certificate), the cofactor
// and MQV schemes, and AES key wrap with padding.
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/key_agreement.hpp"

#include <botan/block_cipher.h>
#include <botan/ec_group.h>
#include <botan/nist_keywrap.h>

namespace router::cms::key_agreement {

namespace {

content_key failure(decrypt_status status, std::string detail) {
  content_key result;
  result.status = status;
  result.detail = std::move(detail);
  return result;
}

std::string curve_name(const Botan::EC_Group& curve) {
  return curve.get_curve_oid().to_formatted_string();
}

/// Returns KeyWrapAlgorithm, the parameters of keyEncryptionAlgorithm (RFC 5753 section 3.1.1).
Botan::AlgorithmIdentifier key_wrap_algorithm_of(const Botan::AlgorithmIdentifier& key_encryption_algorithm) {
  const std::string field = "KeyAgreeRecipientInfo.keyEncryptionAlgorithm.parameters";
  Botan::BER_Decoder input(key_encryption_algorithm.get_parameters());
  const Botan::AlgorithmIdentifier wrap = ber::algorithm_identifier(input, field);
  ber::expect_end(input, field);
  return wrap;
}

/// Returns why the originator's key cannot be combined with the recipient's,
/// as a failure, or a result with status ok when it is on the recipient's curve.
content_key check_originator_curve(const originator_public_key& originator, const Botan::EC_Group& recipient_curve) {
  if (originator.algorithm.get_oid() != encoding::id_ec_public_key)
    return failure(decrypt_status::unsupported_algorithm,
                   "the originator key algorithm " + originator.algorithm.get_oid().to_formatted_string() +
                       " is not supported; use id-ecPublicKey");

  // Absent parameters, as OpenSSL 3.0 and our encoder write them, or NULL mean
  // the curve of the recipient's key.
  if (originator.algorithm.parameters_are_null_or_empty())
    return {};

  std::optional<Botan::EC_Group> curve;
  try {
    curve.emplace(originator.algorithm.get_parameters());
  } catch (const Botan::Exception& e) {
    return failure(decrypt_status::unsupported_algorithm,
                   std::string("the curve of the originator key is unknown or invalid (") + e.what() + ")");
  }
  if (*curve != recipient_curve)
    return failure(decrypt_status::decryption_failed, "the originator key is on " + curve_name(*curve) +
                                                          ", but the recipient key is on " +
                                                          curve_name(recipient_curve) +
                                                          ": the message is not for this key");
  return {};
}

} // namespace

content_key unwrap_content_key(const key_agree_recipient_info& info, const bytes& encrypted_key,
                               const Botan::EC_PrivateKey& recipient_key, size_t length,
                               Botan::RandomNumberGenerator& rng) {
  if (!info.originator_key)
    return failure(decrypt_status::unsupported_algorithm,
                   "the KeyAgreeRecipientInfo names its originator by certificate (" +
                       info.originator_certificate->to_string() +
                       "), which is static-static ECDH; only an ephemeral originator key is supported");

  const Botan::OID& scheme = info.key_encryption_algorithm.get_oid();
  const std::string kdf_hash = kdf_hash_for_scheme(scheme);
  if (kdf_hash.empty())
    return failure(decrypt_status::unsupported_algorithm,
                   "the key agreement algorithm " + scheme.to_formatted_string() +
                       " is not supported; use dhSinglePass-stdDH with a SHA-1 or SHA-2 KDF");

  const Botan::AlgorithmIdentifier wrap_algorithm = key_wrap_algorithm_of(info.key_encryption_algorithm);
  const std::optional<key_wrap> wrap = key_wrap_for_oid(wrap_algorithm.get_oid());
  if (!wrap)
    return failure(decrypt_status::unsupported_algorithm,
                   "the key wrap algorithm " + wrap_algorithm.get_oid().to_formatted_string() +
                       " is not supported; use aes128-wrap, aes192-wrap or aes256-wrap");
  if (!wrap_algorithm.parameters_are_null_or_empty())
    throw decode_error("the AES key wrap AlgorithmIdentifier has parameters, which RFC 3565 section 2.3.2 forbids");

  const Botan::EC_Group& curve = recipient_key.domain();
  content_key curve_check = check_originator_curve(*info.originator_key, curve);
  if (curve_check.status != decrypt_status::ok)
    return curve_check;

  // Botan throws for an encoding that is not a point on the curve and for the
  // point at infinity.
  Botan::secure_vector<uint8_t> shared_secret;
  try {
    shared_secret = agree(recipient_key, info.originator_key->public_key, rng);
  } catch (const Botan::Exception&) {
    return failure(decrypt_status::decryption_failed, "the originator public key is not a valid point on " +
                                                          curve_name(curve) + ": the message was changed");
  }

  // The SharedInfo carries the key wrap AlgorithmIdentifier as the message
  // does, so a NULL parameter that the originator hashed is hashed here too.
  const bytes shared_info = encode_shared_info(wrap_algorithm, wrap->key_length, info.ukm);
  const Botan::secure_vector<uint8_t> key_encryption_key =
      derive_key_encryption_key(kdf_hash, shared_secret, shared_info, wrap->key_length);

  const auto cipher = Botan::BlockCipher::create_or_throw(wrap->botan_cipher);
  cipher->set_key(key_encryption_key);
  content_key result;
  try {
    result.key = Botan::nist_key_unwrap(encrypted_key.data(), encrypted_key.size(), *cipher);
  } catch (const Botan::Exception&) {
    return failure(decrypt_status::decryption_failed,
                   "the encrypted key fails the AES key wrap integrity check: the message was changed or is not "
                   "for this key");
  }
  if (result.key.size() != length)
    return failure(decrypt_status::decryption_failed,
                   "the unwrapped content-encryption key has " + std::to_string(result.key.size()) +
                       " octets, but the content encryption algorithm needs " + std::to_string(length));
  return result;
}

} // namespace router::cms::key_agreement
