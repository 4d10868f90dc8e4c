// EnvelopedData (RFC 5652 section 6) with AES-CBC and AuthEnvelopedData
// (RFC 5083) with AES-GCM.
//
// Each recipient gets one RecipientInfo (see recipient_info.cpp): key transport
// for RSA certificates, ECDH key agreement for EC certificates on P-256 and
// P-384; other keys are rejected. No originatorInfo and no unprotected,
// authenticated or unauthenticated attributes are written.
#include "runtime/cms/cms.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/recipient_info.hpp"
#include "runtime/cms/streaming.hpp"
#include "runtime/common/error.hpp"

#include <botan/cipher_mode.h>

namespace router::cms {

namespace {

using namespace encoding;

// RFC 5084 section 3.2: a 12-byte nonce is recommended. The full 16-byte tag
// is used; its length is written into GCMParameters.
constexpr size_t gcm_nonce_length = 12;
constexpr size_t gcm_tag_length = 16;
constexpr size_t cbc_iv_length = 16;

struct cipher_description {
  const Botan::OID* oid;
  std::string botan_name;
  size_t key_length;
};

cipher_description describe_cipher(content_cipher cipher) {
  switch (cipher) {
    case content_cipher::aes128_cbc:
      return {&id_aes128_cbc, "AES-128/CBC/PKCS7", 16};
    case content_cipher::aes192_cbc:
      return {&id_aes192_cbc, "AES-192/CBC/PKCS7", 24};
    case content_cipher::aes256_cbc:
      return {&id_aes256_cbc, "AES-256/CBC/PKCS7", 32};
    case content_cipher::aes128_gcm:
      return {&id_aes128_gcm, "AES-128/GCM(16)", 16};
    case content_cipher::aes256_gcm:
      return {&id_aes256_gcm, "AES-256/GCM(16)", 32};
  }
  throw std::logic_error("unhandled content_cipher");
}

void check_recipients(const std::vector<recipient>& recipients) {
  if (recipients.empty())
    throw router_error("cannot encrypt: no recipient was given; pass at least one recipient certificate");

  for (size_t i = 0; i < recipients.size(); ++i) {
    const Botan::X509_Certificate* certificate = recipients[i].certificate;
    if (certificate == nullptr)
      throw router_error("cannot encrypt: recipient " + std::to_string(i + 1) +
                         " has no certificate; register the destination's certificate");

    const std::string problem = recipient_key_problem(*certificate);
    if (!problem.empty())
      throw router_error("cannot encrypt for " + describe(*certificate) + ": " + problem);
  }
}

bytes encode_recipient_infos_contents(const std::vector<recipient>& recipients,
                                      const Botan::secure_vector<uint8_t>& key, Botan::RandomNumberGenerator& rng) {
  std::vector<bytes> infos;
  for (const recipient& recipient : recipients)
    infos.push_back(recipient_info::encode(recipient, key, rng));
  return sorted_set_contents(std::move(infos));
}

/// Returns the EnvelopedData version (RFC 5652 section 6.1): 0 when every
/// RecipientInfo is version 0, else 2, because originatorInfo, unprotectedAttrs,
/// pwri and ori are never written.
size_t enveloped_data_version(const std::vector<recipient>& recipients) {
  for (const recipient& recipient : recipients) {
    if (recipient_info::version(recipient) != 0)
      return 2;
  }
  return 0;
}

/// Returns the contentEncryptionAlgorithm for a fresh IV or nonce: the IV as
/// AES-IV ::= OCTET STRING for CBC (RFC 3565), GCMParameters for GCM (RFC 5084
/// section 3.2) with the 16-byte tag length, which is not the default 12.
Botan::AlgorithmIdentifier content_algorithm(const cipher_description& cipher, bool authenticated,
                                             const bytes& iv_or_nonce) {
  bytes parameters;
  if (!authenticated) {
    Botan::DER_Encoder(parameters).encode(iv_or_nonce, Botan::OCTET_STRING);
    return Botan::AlgorithmIdentifier(*cipher.oid, parameters);
  }
  Botan::DER_Encoder(parameters)
      .start_cons(Botan::SEQUENCE)
      .encode(iv_or_nonce, Botan::OCTET_STRING)  // aes-nonce
      .encode(gcm_tag_length)                    // aes-ICVlen
      .end_cons();
  return Botan::AlgorithmIdentifier(*cipher.oid, parameters);
}

template <typename Value>
bytes encode_value(const Value& value) {
  bytes out;
  Botan::DER_Encoder(out).encode(value);
  return out;
}

void append(bytes& out, const bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

} // namespace

envelope_encryptor::envelope_encryptor(const std::vector<recipient>& recipients, content_cipher cipher,
                                       uint64_t content_length, Botan::RandomNumberGenerator& rng)
    : authenticated_(is_authenticated(cipher)), content_length_(content_length) {
  check_recipients(recipients);

  const cipher_description description = describe_cipher(cipher);
  const auto key = rng.random_vec(description.key_length);
  const auto iv = rng.random_vec(authenticated_ ? gcm_nonce_length : cbc_iv_length);
  mode_ = Botan::Cipher_Mode::create_or_throw(description.botan_name, Botan::ENCRYPTION);
  mode_->set_key(key);
  mode_->start(iv);
  const bytes recipient_infos = encode_recipient_infos_contents(recipients, key, rng);

  // CBC pads with PKCS #7 (RFC 5652 section 6.3), so 1 to 16 octets are added.
  // GCM ciphertext is as long as the content; the tag goes into mac.
  const uint64_t ciphertext_length = authenticated_ ? content_length : (content_length / 16 + 1) * 16;
  const uint64_t trailer_length = authenticated_ ? 2 + gcm_tag_length : 0;

  // EncryptedContentInfo (RFC 5652 section 6.1): contentType,
  // contentEncryptionAlgorithm, encryptedContent [0] IMPLICIT OCTET STRING.
  bytes content_info_start = encode_value(id_data);
  append(content_info_start, encode_value(content_algorithm(description, authenticated_, bytes(iv.begin(), iv.end()))));
  append(content_info_start, der_header(0x80, ciphertext_length));
  const uint64_t encrypted_content_info_length = content_info_start.size() + ciphertext_length;
  const bytes encrypted_content_info_header = der_header(0x30, encrypted_content_info_length);

  // AuthEnvelopedData version is always 0 (RFC 5083 section 2.1).
  const bytes version = encode_value(authenticated_ ? size_t{0} : enveloped_data_version(recipients));
  bytes recipient_info_set;
  Botan::DER_Encoder(recipient_info_set).add_object(Botan::SET, Botan::CONSTRUCTED, recipient_infos);

  const uint64_t body_length = version.size() + recipient_info_set.size() + encrypted_content_info_header.size() +
                               encrypted_content_info_length + trailer_length;
  const bytes body_header = der_header(0x30, body_length);
  const bytes content_type = encode_value(authenticated_ ? id_ct_auth_enveloped_data : id_enveloped_data);
  const bytes explicit_content = der_header(0xA0, body_header.size() + body_length);
  const uint64_t content_info_length = content_type.size() + explicit_content.size() + body_header.size() + body_length;
  const bytes content_info_header = der_header(0x30, content_info_length);

  const std::initializer_list<const bytes*> header_pieces = {
      &content_info_header, &content_type,       &explicit_content,
      &body_header,         &version,            &recipient_info_set,
      &encrypted_content_info_header,            &content_info_start};
  for (const bytes* piece : header_pieces)
    append(header_, *piece);
  encoded_length_ = content_info_header.size() + content_info_length;
}

envelope_encryptor::~envelope_encryptor() = default;

void envelope_encryptor::update(const uint8_t* data, size_t length, bytes& out) {
  if (length > content_length_ - received_)
    throw router_error("cannot encrypt: the content is longer than the " + std::to_string(content_length_) +
                       " octets announced; it changed while it was read");
  received_ += length;
  pending_.insert(pending_.end(), data, data + length);

  const size_t granularity = mode_->update_granularity();
  const size_t ready = pending_.size() - pending_.size() % granularity;
  if (ready == 0)
    return;
  mode_->process(pending_.data(), ready);  // in place; CBC and GCM keep the length
  out.insert(out.end(), pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(ready));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(ready));
}

void envelope_encryptor::finish(bytes& out) {
  if (received_ != content_length_)
    throw router_error("cannot encrypt: the content ended after " + std::to_string(received_) + " of the " +
                       std::to_string(content_length_) + " octets announced; it changed while it was read");
  mode_->finish(pending_);
  if (!authenticated_) {
    out.insert(out.end(), pending_.begin(), pending_.end());
    return;
  }

  // GCM appends the tag to the ciphertext; it goes into mac (RFC 5083 section 2.1).
  const auto tag_start = pending_.end() - gcm_tag_length;
  out.insert(out.end(), pending_.begin(), tag_start);
  append(out, der_header(0x04, gcm_tag_length));
  out.insert(out.end(), tag_start, pending_.end());
}

bytes encrypt(const bytes& content, const std::vector<recipient>& recipients, content_cipher cipher,
              Botan::RandomNumberGenerator& rng) {
  envelope_encryptor encryptor(recipients, cipher, content.size(), rng);
  bytes out = encryptor.header();
  out.reserve(encryptor.encoded_length());
  encryptor.update(content.data(), content.size(), out);
  encryptor.finish(out);
  return out;
}

} // namespace router::cms
