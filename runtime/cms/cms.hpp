// CMS (RFC 5652, RFC 5083) producers on Botan's DER encoder.
//
// Offers SignedData (detached or encapsulated), EnvelopedData with AES-CBC and
// AuthEnvelopedData with AES-GCM, all wrapped in a ContentInfo. Pure: no I/O,
// no clock reads; the signing time and the random source are passed in.
// Throws router::router_error when a key or certificate cannot be used.
#pragma once

#include <botan/pk_keys.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace router::cms {

using bytes = std::vector<uint8_t>;

enum class digest_algorithm { sha256, sha384, sha512 };

enum class content_cipher { aes128_cbc, aes192_cbc, aes256_cbc, aes128_gcm, aes256_gcm };

enum class key_transport { rsa_pkcs1v15, rsa_oaep_sha256 };

/// The device identity that signs: certificate, private key and intermediates.
struct signer_identity {
  const Botan::X509_Certificate* certificate = nullptr;
  const Botan::Private_Key* private_key = nullptr;
  std::vector<Botan::X509_Certificate> intermediates;  // any order
};

struct signing_options {
  digest_algorithm digest = digest_algorithm::sha256;
  bool detached = true;  // false: the content is encapsulated in the SignedData
  std::chrono::system_clock::time_point signing_time;
};

struct recipient {
  const Botan::X509_Certificate* certificate = nullptr;
  key_transport transport = key_transport::rsa_pkcs1v15;
};

/// Signs content and returns the DER ContentInfo holding a SignedData.
bytes sign(const bytes& content, const signer_identity& signer, const signing_options& options,
           Botan::RandomNumberGenerator& rng);

/// Encrypts content for the recipients and returns the DER ContentInfo. CBC ciphers
/// produce EnvelopedData, GCM ciphers AuthEnvelopedData.
bytes encrypt(const bytes& content, const std::vector<recipient>& recipients, content_cipher cipher,
              Botan::RandomNumberGenerator& rng);

/// Returns the micalg parameter value for a digest ("sha-256", ...).
std::string micalg_name(digest_algorithm digest);

/// Returns true for the ciphers that need AuthEnvelopedData.
bool is_authenticated(content_cipher cipher);

} // namespace router::cms
