// CMS producers for content that is too large to hold in memory.
//
// The caller reads the content in pieces and writes the pieces these classes
// return. A detached or encapsulated SignedData needs only the content digest
// and length up front, so its DER comes as a prefix and a suffix that go
// around the content. An EnvelopedData or AuthEnvelopedData is written as a
// header, then the ciphertext piece by piece, then a trailer. Every DER length
// is computed from the content length given at the start, so the content
// must be exactly that long. cms::sign() and cms::encrypt() are built on the
// same code, so both paths produce the same bytes for the same input and
// random source. Pure: no I/O, no clock reads.
#pragma once

#include "runtime/cms/cms.hpp"

#include <botan/cipher_mode.h>
#include <botan/hash.h>
#include <botan/secmem.h>

#include <cstdint>
#include <memory>

namespace router::cms {

/// The DER of a SignedData ContentInfo split around its content: prefix,
/// then the content octets when the signature is encapsulated, then suffix.
/// A detached SignedData is all prefix, with an empty suffix.
struct signed_data_frame {
  bytes prefix;
  bytes suffix;
};

/// Returns a hash function for the digest, to feed the content in pieces.
std::unique_ptr<Botan::HashFunction> make_content_hash(digest_algorithm digest);

/// Signs content given its digest (computed with make_content_hash()) and its
/// length in octets. Throws router_error like sign().
signed_data_frame sign_digest(const bytes& content_digest, uint64_t content_length, const signer_identity& signer,
                              const signing_options& options, Botan::RandomNumberGenerator& rng);

/// Encrypts content of a known length in pieces into an EnvelopedData (CBC
/// ciphers) or AuthEnvelopedData (GCM ciphers) ContentInfo. The constructor
/// draws the content key, the IV or nonce and the recipient infos from `rng`
/// in that order, as encrypt() does.
class envelope_encryptor {
 public:
  /// Throws router_error when a recipient certificate cannot be used.
  envelope_encryptor(const std::vector<recipient>& recipients, content_cipher cipher, uint64_t content_length,
                     Botan::RandomNumberGenerator& rng);
  ~envelope_encryptor();
  envelope_encryptor(const envelope_encryptor&) = delete;
  envelope_encryptor& operator=(const envelope_encryptor&) = delete;

  /// Returns the DER from the start of the ContentInfo to the first ciphertext octet.
  const bytes& header() const { return header_; }

  /// Returns the length of the whole ContentInfo in octets.
  uint64_t encoded_length() const { return encoded_length_; }

  /// Encrypts the next piece of content and appends the ciphertext that is
  /// ready to `out`. Up to one cipher block is held back until more content
  /// or finish() comes. Throws router_error past the announced length.
  void update(const uint8_t* data, size_t length, bytes& out);

  /// Appends the last ciphertext and the DER after it (the GCM tag) to `out`.
  /// Throws router_error when fewer octets came than announced.
  void finish(bytes& out);

 private:
  std::unique_ptr<Botan::Cipher_Mode> mode_;
  bool authenticated_ = false;
  uint64_t content_length_ = 0;
  uint64_t received_ = 0;
  uint64_t encoded_length_ = 0;
  bytes header_;
  Botan::secure_vector<uint8_t> pending_;
};

} // namespace router::cms
