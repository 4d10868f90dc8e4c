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

/// The encrypted content and what the EncryptedContentInfo needs to describe it.
struct encrypted_content {
  Botan::AlgorithmIdentifier algorithm;
  bytes ciphertext;
  bytes tag;  // GCM only
};

encrypted_content encrypt_cbc(const bytes& content, const cipher_description& cipher,
                              const Botan::secure_vector<uint8_t>& key, Botan::RandomNumberGenerator& rng) {
  const auto iv = rng.random_vec(cbc_iv_length);

  const auto mode = Botan::Cipher_Mode::create_or_throw(cipher.botan_name, Botan::ENCRYPTION);
  mode->set_key(key);
  mode->start(iv);
  Botan::secure_vector<uint8_t> buffer(content.begin(), content.end());
  mode->finish(buffer);  // PKCS #7 padding, as RFC 5652 section 6.3 requires

  // RFC 3565: the parameters are the IV, AES-IV ::= OCTET STRING.
  bytes parameters;
  Botan::DER_Encoder(parameters).encode(iv, Botan::OCTET_STRING);
  return {Botan::AlgorithmIdentifier(*cipher.oid, parameters), bytes(buffer.begin(), buffer.end()), {}};
}

encrypted_content encrypt_gcm(const bytes& content, const cipher_description& cipher,
                              const Botan::secure_vector<uint8_t>& key, Botan::RandomNumberGenerator& rng) {
  const auto nonce = rng.random_vec(gcm_nonce_length);

  const auto mode = Botan::Cipher_Mode::create_or_throw(cipher.botan_name, Botan::ENCRYPTION);
  mode->set_key(key);
  mode->start(nonce);
  Botan::secure_vector<uint8_t> buffer(content.begin(), content.end());
  mode->finish(buffer);  // ciphertext followed by the tag

  const auto tag_start = buffer.end() - gcm_tag_length;
  bytes parameters;
  Botan::DER_Encoder(parameters)
      .start_cons(Botan::SEQUENCE)               // GCMParameters (RFC 5084 section 3.2)
      .encode(nonce, Botan::OCTET_STRING)        // aes-nonce
      .encode(gcm_tag_length)                    // aes-ICVlen, not the default 12
      .end_cons();
  return {Botan::AlgorithmIdentifier(*cipher.oid, parameters), bytes(buffer.begin(), tag_start),
          bytes(tag_start, buffer.end())};
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

bytes encode_encrypted_content_info(const encrypted_content& encrypted) {
  bytes out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .encode(id_data)              // contentType
      .encode(encrypted.algorithm)  // contentEncryptionAlgorithm
      .encode(encrypted.ciphertext, Botan::OCTET_STRING, Botan::ASN1_Tag(0),
              Botan::CONTEXT_SPECIFIC)  // encryptedContent [0] IMPLICIT
      .end_cons();
  return out;
}

bytes encode_enveloped_data(size_t version, const bytes& recipient_infos, const encrypted_content& encrypted) {
  bytes out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .encode(version)
      .add_object(Botan::SET, Botan::CONSTRUCTED, recipient_infos)  // recipientInfos
      .raw_bytes(encode_encrypted_content_info(encrypted))          // encryptedContentInfo
      .end_cons();
  return content_info(id_enveloped_data, out);
}

bytes encode_auth_enveloped_data(const bytes& recipient_infos, const encrypted_content& encrypted) {
  bytes out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .encode(size_t{0})                                            // version: always 0 (RFC 5083 section 2.1)
      .add_object(Botan::SET, Botan::CONSTRUCTED, recipient_infos)  // recipientInfos
      .raw_bytes(encode_encrypted_content_info(encrypted))          // authEncryptedContentInfo
      .encode(encrypted.tag, Botan::OCTET_STRING)                   // mac
      .end_cons();
  return content_info(id_ct_auth_enveloped_data, out);
}

} // namespace

bytes encrypt(const bytes& content, const std::vector<recipient>& recipients, content_cipher cipher,
              Botan::RandomNumberGenerator& rng) {
  check_recipients(recipients);

  const cipher_description description = describe_cipher(cipher);
  const auto key = rng.random_vec(description.key_length);

  const encrypted_content encrypted = is_authenticated(cipher) ? encrypt_gcm(content, description, key, rng)
                                                               : encrypt_cbc(content, description, key, rng);
  const bytes recipient_infos = encode_recipient_infos_contents(recipients, key, rng);

  if (is_authenticated(cipher))
    return encode_auth_enveloped_data(recipient_infos, encrypted);
  return encode_enveloped_data(enveloped_data_version(recipients), recipient_infos, encrypted);
}

} // namespace router::cms
