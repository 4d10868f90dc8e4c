// Botan signing operations kept for reuse across the messages one thread signs.
//
// Making a Botan::PK_Signer for an RSA key costs more than the signature it
// then makes, because Botan 2 sets up the key's blinding (a random blinding
// factor and its modular inverse) in the signer's constructor. A signer_cache
// belongs to one private key and one random source, and keeps one PK_Signer
// per padding and output format of that key.
//
// Not thread-safe: Botan's PK_Signer is not, so each thread keeps its own
// cache. Each signer keeps a reference to the key and to the random source,
// so the cache holds the key and the caller keeps the random source alive for
// as long as the cache lives.
#pragma once

#include <botan/pk_keys.h>
#include <botan/pubkey.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace router::cms {

class signer_cache {
 public:
  /// Makes an empty cache for `key`; throws std::invalid_argument when `key` is null.
  signer_cache(std::shared_ptr<const Botan::Private_Key> key, Botan::RandomNumberGenerator& rng);

  signer_cache(const signer_cache&) = delete;
  signer_cache& operator=(const signer_cache&) = delete;

  /// Returns the PK_Signer for a Botan padding name (e.g. "EMSA3(SHA-256)")
  /// and format, made on first use.
  Botan::PK_Signer& signer_for(const std::string& padding, Botan::Signature_Format format);

  /// Returns certs::key_matches_certificate(key(), certificate), remembering
  /// the last certificate found to match. Loading the certificate's RSA public
  /// key for the comparison costs about half of an RSA-2048 signature.
  bool key_matches(const Botan::X509_Certificate& certificate);

  const Botan::Private_Key& key() const { return *key_; }
  Botan::RandomNumberGenerator& rng() const { return rng_; }

  /// Returns how many PK_Signer objects were made so far, one per padding and format.
  size_t signers_made() const { return entries_.size(); }

 private:
  struct entry {
    std::string padding;
    Botan::Signature_Format format;
    std::unique_ptr<Botan::PK_Signer> signer;
  };

  std::shared_ptr<const Botan::Private_Key> key_;
  Botan::RandomNumberGenerator& rng_;
  std::vector<entry> entries_;  // one per padding and format in use, so a few at most
  std::optional<Botan::X509_Certificate> matching_certificate_;
};

} // namespace router::cms
