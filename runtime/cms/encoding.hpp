// Object identifiers and DER building blocks shared by the CMS producers.
// Internal to runtime/cms; not part of the module's interface.
#pragma once

#include "runtime/cms/cms.hpp"

#include <botan/asn1_obj.h>
#include <botan/der_enc.h>
#include <botan/x509cert.h>

#include <string>
#include <vector>

namespace router::cms::encoding {

// Content types (RFC 5652 section 4, 5.1 and 6.1; RFC 5083 section 1).
inline const Botan::OID id_data{1, 2, 840, 113549, 1, 7, 1};
inline const Botan::OID id_signed_data{1, 2, 840, 113549, 1, 7, 2};
inline const Botan::OID id_enveloped_data{1, 2, 840, 113549, 1, 7, 3};
inline const Botan::OID id_ct_auth_enveloped_data{1, 2, 840, 113549, 1, 9, 16, 1, 23};

// Signed attribute types (RFC 5652 section 11; RFC 8551 section 2.5.2).
inline const Botan::OID id_content_type{1, 2, 840, 113549, 1, 9, 3};
inline const Botan::OID id_message_digest{1, 2, 840, 113549, 1, 9, 4};
inline const Botan::OID id_signing_time{1, 2, 840, 113549, 1, 9, 5};
inline const Botan::OID id_smime_capabilities{1, 2, 840, 113549, 1, 9, 15};

// Digests (RFC 5754 section 2).
inline const Botan::OID id_sha256{2, 16, 840, 1, 101, 3, 4, 2, 1};
inline const Botan::OID id_sha384{2, 16, 840, 1, 101, 3, 4, 2, 2};
inline const Botan::OID id_sha512{2, 16, 840, 1, 101, 3, 4, 2, 3};
inline const Botan::OID id_sha224{2, 16, 840, 1, 101, 3, 4, 2, 4};

// Signature and key transport algorithms (RFC 5754 section 3, RFC 8419, RFC 3560).
inline const Botan::OID rsa_encryption{1, 2, 840, 113549, 1, 1, 1};
inline const Botan::OID id_rsaes_oaep{1, 2, 840, 113549, 1, 1, 7};
inline const Botan::OID id_mgf1{1, 2, 840, 113549, 1, 1, 8};
inline const Botan::OID ecdsa_with_sha256{1, 2, 840, 10045, 4, 3, 2};
inline const Botan::OID ecdsa_with_sha384{1, 2, 840, 10045, 4, 3, 3};
inline const Botan::OID ecdsa_with_sha512{1, 2, 840, 10045, 4, 3, 4};
inline const Botan::OID id_ed25519{1, 3, 101, 112};
inline const Botan::OID id_rsassa_pss{1, 2, 840, 113549, 1, 1, 10};  // RFC 4056

// Key agreement (RFC 5753 section 7.1, RFC 5480) and AES key wrap (RFC 3565 section 2.3.2).
inline const Botan::OID id_ec_public_key{1, 2, 840, 10045, 2, 1};
inline const Botan::OID dh_single_pass_std_dh_sha1kdf_scheme{1, 3, 133, 16, 840, 63, 0, 2};
inline const Botan::OID dh_single_pass_std_dh_sha224kdf_scheme{1, 3, 132, 1, 11, 0};
inline const Botan::OID dh_single_pass_std_dh_sha256kdf_scheme{1, 3, 132, 1, 11, 1};
inline const Botan::OID dh_single_pass_std_dh_sha384kdf_scheme{1, 3, 132, 1, 11, 2};
inline const Botan::OID dh_single_pass_std_dh_sha512kdf_scheme{1, 3, 132, 1, 11, 3};
inline const Botan::OID id_aes128_wrap{2, 16, 840, 1, 101, 3, 4, 1, 5};
inline const Botan::OID id_aes192_wrap{2, 16, 840, 1, 101, 3, 4, 1, 25};
inline const Botan::OID id_aes256_wrap{2, 16, 840, 1, 101, 3, 4, 1, 45};

// Content encryption (RFC 3565, RFC 5084 section 3.2).
inline const Botan::OID id_aes128_cbc{2, 16, 840, 1, 101, 3, 4, 1, 2};
inline const Botan::OID id_aes192_cbc{2, 16, 840, 1, 101, 3, 4, 1, 22};
inline const Botan::OID id_aes256_cbc{2, 16, 840, 1, 101, 3, 4, 1, 42};
inline const Botan::OID id_aes128_gcm{2, 16, 840, 1, 101, 3, 4, 1, 6};
inline const Botan::OID id_aes256_gcm{2, 16, 840, 1, 101, 3, 4, 1, 46};

/// Class bits of a constructed context-specific tag such as [0] IMPLICIT SET OF.
inline const auto context_constructed = Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);

/// Returns the digest's OID.
const Botan::OID& digest_oid(digest_algorithm digest);

/// Returns Botan's name for the digest ("SHA-256", ...).
std::string botan_hash_name(digest_algorithm digest);

/// Returns Botan's name for a SHA-2 digest OID read from a message, or an
/// empty string for any other digest.
std::string sha2_hash_name(const Botan::OID& oid);

/// Returns the AlgorithmIdentifier of a digest, with absent parameters as RFC 5754
/// section 2 requires of producers.
Botan::AlgorithmIdentifier digest_algorithm_identifier(digest_algorithm digest);

/// Returns the digest's output length in octets.
size_t digest_length(digest_algorithm digest);

/// Returns the content octets of a DER SET OF: the element encodings sorted as
/// X.690 11.6 requires. The caller adds the SET tag (0x31) or an IMPLICIT tag.
bytes sorted_set_contents(std::vector<bytes> elements);

/// Encodes IssuerAndSerialNumber (RFC 5652 section 10.2.4) from the certificate's
/// own issuer DN bytes, so the name matches byte for byte.
void encode_issuer_and_serial_number(Botan::DER_Encoder& der, const Botan::X509_Certificate& certificate);

/// Returns Botan's name for the certificate's public key algorithm ("RSA",
/// "ECDSA", ...) from its OID, without loading the key, or the dotted OID when
/// Botan has no name for it.
std::string public_key_algorithm(const Botan::X509_Certificate& certificate);

/// Returns the identifier and length octets of a DER element (X.690 8.1.2 and
/// 8.1.3) whose contents are `length` octets long. `identifier` is the whole
/// identifier octet, e.g. 0x30 for SEQUENCE; only low tag numbers fit in it.
bytes der_header(uint8_t identifier, uint64_t length);

/// Wraps a DER content in ContentInfo (RFC 5652 section 3).
bytes content_info(const Botan::OID& content_type, const bytes& content);

/// Returns the certificate's subject DN as text, for error messages.
std::string describe(const Botan::X509_Certificate& certificate);

} // namespace router::cms::encoding
