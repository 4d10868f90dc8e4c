// CMS (RFC 5652, RFC 5083) producers on Botan's DER encoder.
//
// Offers SignedData (detached or encapsulated) signed with RSA PKCS#1 v1.5,
// RSASSA-PSS, ECDSA or Ed25519. Offers EnvelopedData with AES-CBC and
// AuthEnvelopedData with AES-GCM for RSA recipients (key transport with
// PKCS#1 v1.5 or OAEP) and for EC recipients on P-256 or P-384 (ephemeral-static
// ECDH key agreement). Every result is wrapped in a ContentInfo. Pure: no I/O, no clock reads; the
// signing time and the random source are passed in. Throws
// router::router_error when a key or certificate cannot be used.
#pragma once

#include <botan/pk_keys.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace router::cms {

class signer_cache;  // runtime/cms/signer_cache.hpp

using bytes = std::vector<uint8_t>;

enum class digest_algorithm { sha256, sha384, sha512 };

enum class content_cipher { aes128_cbc, aes192_cbc, aes256_cbc, aes128_gcm, aes256_gcm };

enum class key_transport { rsa_pkcs1v15, rsa_oaep_sha256 };

/// Signature scheme of an RSA signing key. ECDSA and Ed25519 keys have one scheme each.
enum class rsa_signature_scheme { pkcs1v15, pss };

/// Form of the recipient identifier in a RecipientInfo (RFC 5652 section 6.2).
enum class recipient_identifier { issuer_and_serial_number, subject_key_identifier };

/// The device identity that signs: certificate, private key and intermediates.
struct signer_identity {
  const Botan::X509_Certificate* certificate = nullptr;
  const Botan::Private_Key* private_key = nullptr;
  std::vector<Botan::X509_Certificate> intermediates;  // any order
};

struct signing_options {
  digest_algorithm digest = digest_algorithm::sha256;  // Ed25519 keys need sha512, see signing_digest()
  rsa_signature_scheme rsa_scheme = rsa_signature_scheme::pkcs1v15;  // used with RSA keys only
  bool detached = true;  // false: the content is encapsulated in the SignedData
  std::chrono::system_clock::time_point signing_time;
};

/// One recipient of an encrypted message. The certificate's key type picks the
/// key management: RSA keys get key transport with `transport`, EC keys get
/// ECDH key agreement and ignore `transport`.
struct recipient {
  const Botan::X509_Certificate* certificate = nullptr;
  key_transport transport = key_transport::rsa_pkcs1v15;
  // subject_key_identifier uses the certificate's own extension bytes. A
  // certificate without the extension is named by issuer and serial number.
  recipient_identifier identifier = recipient_identifier::issuer_and_serial_number;
  // The certificate's public key, loaded before by the caller, or nullptr to
  // have encrypt() load it. It must be the key of `certificate`.
  const Botan::Public_Key* public_key = nullptr;
};

/// Signs content and returns the DER ContentInfo holding a SignedData.
bytes sign(const bytes& content, const signer_identity& signer, const signing_options& options,
           Botan::RandomNumberGenerator& rng);

/// Signs content as above with a PK_Signer reused from `cache`, which must
/// belong to signer.private_key (else throws std::invalid_argument), and with
/// the cache's random source.
bytes sign(const bytes& content, const signer_identity& signer, const signing_options& options,
           signer_cache& cache);

/// Encrypts content for the recipients and returns the DER ContentInfo. CBC ciphers
/// produce EnvelopedData, GCM ciphers AuthEnvelopedData.
bytes encrypt(const bytes& content, const std::vector<recipient>& recipients, content_cipher cipher,
              Botan::RandomNumberGenerator& rng);

/// Returns the digest a key must sign with: SHA-512 for Ed25519 keys, which
/// RFC 8419 section 3 pairs with SHA-512 only, and `configured` for other keys.
digest_algorithm signing_digest(const Botan::Private_Key& key, digest_algorithm configured);

/// Returns why encrypt() cannot use the certificate's public key, or an empty
/// string when it can (RSA of any size, or EC on P-256 or P-384).
std::string recipient_key_problem(const Botan::X509_Certificate& certificate);

/// Returns true when the certificate's key is an EC key, so encrypt() uses key agreement.
bool uses_key_agreement(const Botan::X509_Certificate& certificate);

/// Returns the micalg parameter value for a digest ("sha-256", ...).
std::string micalg_name(digest_algorithm digest);

/// Returns true for the ciphers that need AuthEnvelopedData.
bool is_authenticated(content_cipher cipher);

} // namespace router::cms
