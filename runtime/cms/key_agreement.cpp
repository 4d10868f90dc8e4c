// Building blocks of ephemeral-static ECDH key agreement shared by the
// KeyAgreeRecipientInfo producer and reader (RFC 5753).
#include "runtime/cms/key_agreement.hpp"

#include "runtime/cms/encoding.hpp"

#include <botan/der_enc.h>
#include <botan/ecdh.h>
#include <botan/kdf.h>
#include <botan/pubkey.h>

namespace router::cms::key_agreement {

using namespace encoding;

key_wrap key_wrap_for_content_key(size_t content_key_length) {
  if (content_key_length <= 16)
    return {&id_aes128_wrap, "AES-128", 16};
  return {&id_aes256_wrap, "AES-256", 32};
}

std::optional<key_wrap> key_wrap_for_oid(const Botan::OID& oid) {
  if (oid == id_aes128_wrap)
    return key_wrap{&id_aes128_wrap, "AES-128", 16};
  if (oid == id_aes192_wrap)
    return key_wrap{&id_aes192_wrap, "AES-192", 24};
  if (oid == id_aes256_wrap)
    return key_wrap{&id_aes256_wrap, "AES-256", 32};
  return std::nullopt;
}

std::string kdf_hash_for_scheme(const Botan::OID& scheme) {
  if (scheme == dh_single_pass_std_dh_sha1kdf_scheme)
    return "SHA-160";
  if (scheme == dh_single_pass_std_dh_sha224kdf_scheme)
    return "SHA-224";
  if (scheme == dh_single_pass_std_dh_sha256kdf_scheme)
    return "SHA-256";
  if (scheme == dh_single_pass_std_dh_sha384kdf_scheme)
    return "SHA-384";
  if (scheme == dh_single_pass_std_dh_sha512kdf_scheme)
    return "SHA-512";
  return "";
}

bytes encode_shared_info(const Botan::AlgorithmIdentifier& key_wrap_algorithm, size_t key_encryption_key_length,
                         const std::optional<bytes>& ukm) {
  const uint32_t bits = static_cast<uint32_t>(key_encryption_key_length * 8);
  const bytes supp_pub_info = {static_cast<uint8_t>(bits >> 24), static_cast<uint8_t>(bits >> 16),
                               static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits)};

  bytes out;
  Botan::DER_Encoder der(out);
  der.start_cons(Botan::SEQUENCE);
  der.encode(key_wrap_algorithm);  // keyInfo
  if (ukm)
    der.start_explicit(0).encode(*ukm, Botan::OCTET_STRING).end_explicit();  // entityUInfo [0]
  der.start_explicit(2).encode(supp_pub_info, Botan::OCTET_STRING).end_explicit();  // suppPubInfo [2]
  der.end_cons();
  return out;
}

Botan::secure_vector<uint8_t> agree(const Botan::EC_PrivateKey& own_key, const std::vector<uint8_t>& peer_point,
                                    Botan::RandomNumberGenerator& rng) {
  // Botan 2.19 loads a PKCS#8 EC key as ECDSA, which offers no key agreement,
  // so such a key is copied into an ECDH key with the same private value.
  std::unique_ptr<Botan::ECDH_PrivateKey> converted;
  const auto* ecdh_key = dynamic_cast<const Botan::ECDH_PrivateKey*>(&own_key);
  if (ecdh_key == nullptr) {
    converted = std::make_unique<Botan::ECDH_PrivateKey>(rng, own_key.domain(), own_key.private_value());
    ecdh_key = converted.get();
  }

  // "Raw" returns Z itself: the x-coordinate, padded to the field length.
  Botan::PK_Key_Agreement agreement(*ecdh_key, rng, "Raw");
  return agreement.derive_key(0, peer_point).bits_of();
}

Botan::secure_vector<uint8_t> derive_key_encryption_key(const std::string& kdf_hash,
                                                        const Botan::secure_vector<uint8_t>& shared_secret,
                                                        const bytes& shared_info, size_t length) {
  // KDF2 hashes Z || counter || salt with a counter from 1, which is the X9.63
  // KDF with SharedInfo as the salt.
  const auto kdf = Botan::KDF::create_or_throw("KDF2(" + kdf_hash + ")");
  return kdf->derive_key(length, shared_secret.data(), shared_secret.size(), shared_info.data(), shared_info.size());
}

} // namespace router::cms::key_agreement
