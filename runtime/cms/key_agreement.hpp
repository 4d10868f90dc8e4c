// Ephemeral-static ECDH for KeyAgreeRecipientInfo (RFC 5652 section 6.2.2,
// RFC 5753): the dhSinglePass-stdDH-*kdf-scheme table, the AES key wrap table,
// ECC-CMS-SharedInfo, the X9.63 KDF and the raw ECDH agreement. The producer
// (recipient_info.cpp) and the reader (decrypt_key_agree.cpp) both use these,
// so the two sides derive the key-encryption key the same way.
// Internal to runtime/cms; not part of the module's interface.
#pragma once

#include "runtime/cms/reader.hpp"

#include <botan/asn1_obj.h>
#include <botan/ecc_key.h>
#include <botan/rng.h>
#include <botan/secmem.h>

#include <optional>
#include <string>

namespace router::cms::key_agreement {

/// An AES key wrap algorithm (RFC 3394, RFC 3565 section 2.3.2).
struct key_wrap {
  const Botan::OID* oid;
  std::string botan_cipher;  // "AES-128", ...
  size_t key_length;         // key-encryption key length in octets
};

/// Returns the key wrap that the producer uses for a content-encryption key of
/// this length: never weaker than the content key, so AES-128 keys get
/// aes128-wrap and longer keys aes256-wrap.
key_wrap key_wrap_for_content_key(size_t content_key_length);

/// Returns the key wrap that an OID names, or nothing for an OID other than
/// aes128-wrap, aes192-wrap and aes256-wrap.
std::optional<key_wrap> key_wrap_for_oid(const Botan::OID& oid);

/// Returns Botan's name for the KDF digest of a dhSinglePass-stdDH-*kdf-scheme
/// OID (SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512), or an empty string for
/// any other key agreement algorithm.
std::string kdf_hash_for_scheme(const Botan::OID& scheme);

/// Returns the DER ECC-CMS-SharedInfo (RFC 5753 section 7.2): keyInfo is the
/// key wrap AlgorithmIdentifier as the KeyAgreeRecipientInfo carries it,
/// entityUInfo is the ukm when present, and suppPubInfo is the key-encryption
/// key length in bits as a 32-bit big-endian number.
bytes encode_shared_info(const Botan::AlgorithmIdentifier& key_wrap_algorithm, size_t key_encryption_key_length,
                         const std::optional<bytes>& ukm);

/// Returns the shared secret Z of stdDH (RFC 5753 section 3.1.2): the
/// x-coordinate of the product of `own_key`'s private value and `peer_point`,
/// an encoded point on the same curve. Throws Botan::Exception when
/// `peer_point` is not a valid point on that curve.
Botan::secure_vector<uint8_t> agree(const Botan::EC_PrivateKey& own_key, const std::vector<uint8_t>& peer_point,
                                    Botan::RandomNumberGenerator& rng);

/// Derives a key-encryption key of `length` octets from Z with the ANSI X9.63
/// KDF over `kdf_hash` ("SHA-256", ...) and `shared_info` (RFC 5753 section 7.2).
Botan::secure_vector<uint8_t> derive_key_encryption_key(const std::string& kdf_hash,
                                                        const Botan::secure_vector<uint8_t>& shared_secret,
                                                        const bytes& shared_info, size_t length);

/// A content-encryption key recovered from a RecipientInfo, or the status and
/// reason why it was not.
struct content_key {
  decrypt_status status = decrypt_status::ok;
  std::string detail;
  Botan::secure_vector<uint8_t> key;  // set when status is ok
};

/// Recovers the content-encryption key of `length` octets that `info`
/// wrapped in `encrypted_key` for the holder of `recipient_key`. Throws
/// decode_error on malformed parameters; every other failure is a status.
content_key unwrap_content_key(const key_agree_recipient_info& info, const bytes& encrypted_key,
                               const Botan::EC_PrivateKey& recipient_key, size_t length,
                               Botan::RandomNumberGenerator& rng);

} // namespace router::cms::key_agreement
