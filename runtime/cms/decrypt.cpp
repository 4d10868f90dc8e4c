// EnvelopedData (RFC 5652 section 6) and AuthEnvelopedData (RFC 5083)
// decryption for an RSA or an EC recipient.
//
// Content encryption: AES-128/192/256-CBC in EnvelopedData (RFC 3565) and
// AES-128/192/256-GCM in AuthEnvelopedData (RFC 5084), where the GCM tag is the
// mac field and authAttrs, when present, are the additional authenticated data.
// Key transport: rsaEncryption (PKCS#1 v1.5) and RSAES-OAEP (RFC 3560) with
// SHA-1/224/256/384/512 and an empty label. Key agreement: ephemeral-static
// ECDH, see decrypt_key_agree.cpp.
#include "runtime/certs/certs.hpp"
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/encoding.hpp"
#include "runtime/cms/key_agreement.hpp"
#include "runtime/cms/reader.hpp"

#include <botan/aead.h>
#include <botan/cipher_mode.h>
#include <botan/ecc_key.h>
#include <botan/pubkey.h>

namespace router::cms {

namespace {

using namespace encoding;

const Botan::OID id_aes192_gcm{2, 16, 840, 1, 101, 3, 4, 1, 26};
const Botan::OID id_sha1{1, 3, 14, 3, 2, 26};
const Botan::OID id_p_specified{1, 2, 840, 113549, 1, 1, 9};

// RFC 5084 section 3.2: aes-ICVlen defaults to 12 and may be 12 to 16.
constexpr size_t default_gcm_tag_length = 12;
constexpr size_t cbc_iv_length = 16;

/// How to decrypt the content; `botan_name` is empty when the algorithm is not supported.
struct content_algorithm {
  std::string botan_name;
  size_t key_length = 0;
  bytes iv;  // CBC IV or GCM nonce
  size_t tag_length = 0;
  std::string problem;  // why the algorithm is rejected
};

decrypt_result failure(decrypt_status status, std::string detail) {
  decrypt_result result;
  result.status = status;
  result.detail = std::move(detail);
  return result;
}

content_algorithm cbc_algorithm(const Botan::AlgorithmIdentifier& algorithm, size_t key_length) {
  // RFC 3565 section 4.1: the parameters are the IV, AES-IV ::= OCTET STRING (SIZE(16)).
  Botan::BER_Decoder input(algorithm.get_parameters());
  const bytes iv = ber::octet_string(ber::next(input, Botan::OCTET_STRING, Botan::UNIVERSAL, "AES-IV"), "AES-IV");
  ber::expect_end(input, "AES-CBC parameters");
  if (iv.size() != cbc_iv_length)
    throw decode_error("the AES-CBC IV has " + std::to_string(iv.size()) + " bytes instead of 16");
  return {"AES-" + std::to_string(key_length * 8) + "/CBC/PKCS7", key_length, iv, 0, ""};
}

content_algorithm gcm_algorithm(const Botan::AlgorithmIdentifier& algorithm, size_t key_length) {
  // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen AES-GCM-ICVlen DEFAULT 12 }
  Botan::BER_Decoder input(algorithm.get_parameters());
  Botan::BER_Decoder fields(ber::next(input, Botan::SEQUENCE, Botan::CONSTRUCTED, "GCMParameters"));
  ber::expect_end(input, "AES-GCM parameters");
  const bytes nonce = ber::octet_string(
      ber::next(fields, Botan::OCTET_STRING, Botan::UNIVERSAL, "GCMParameters.aes-nonce"), "GCMParameters.aes-nonce");
  size_t tag_length = default_gcm_tag_length;
  if (ber::next_is(fields, Botan::INTEGER, Botan::UNIVERSAL))
    tag_length = ber::small_integer(fields, "GCMParameters.aes-ICVlen");
  ber::expect_end(fields, "GCMParameters");

  if (nonce.empty())
    throw decode_error("the AES-GCM nonce is empty");
  if (tag_length < 12 || tag_length > 16)
    throw decode_error("the AES-GCM tag length " + std::to_string(tag_length) + " is outside 12 to 16");
  return {"AES-" + std::to_string(key_length * 8) + "/GCM(" + std::to_string(tag_length) + ")", key_length, nonce,
          tag_length, ""};
}

content_algorithm choose_content_algorithm(const enveloped_data& data) {
  const Botan::AlgorithmIdentifier& algorithm = data.encrypted_content.content_encryption_algorithm;
  const Botan::OID& oid = algorithm.get_oid();
  const std::vector<std::pair<const Botan::OID*, size_t>> cbc = {
      {&id_aes128_cbc, 16}, {&id_aes192_cbc, 24}, {&id_aes256_cbc, 32}};
  const std::vector<std::pair<const Botan::OID*, size_t>> gcm = {
      {&id_aes128_gcm, 16}, {&id_aes192_gcm, 24}, {&id_aes256_gcm, 32}};

  // RFC 5083 section 1: AuthEnvelopedData takes authenticated encryption only,
  // and EnvelopedData here takes the CBC modes only.
  for (const auto& [known, key_length] : cbc) {
    if (oid == *known && !data.authenticated)
      return cbc_algorithm(algorithm, key_length);
  }
  for (const auto& [known, key_length] : gcm) {
    if (oid == *known && data.authenticated)
      return gcm_algorithm(algorithm, key_length);
  }

  content_algorithm unsupported;
  unsupported.problem = "the content encryption algorithm " + oid.to_formatted_string() + " is not supported in " +
                        (data.authenticated ? "AuthEnvelopedData; use AES-GCM" : "EnvelopedData; use AES-CBC");
  return unsupported;
}

/// Returns Botan's name for an OAEP digest: SHA-1, which OAEP's default
/// parameters name, or a SHA-2 digest; empty for any other.
std::string oaep_hash_name(const Botan::OID& oid) {
  return oid == id_sha1 ? "SHA-160" : sha2_hash_name(oid);
}

std::string explicit_hash(Botan::BER_Decoder& fields, const std::string& field) {
  Botan::BER_Decoder wrapper(fields.get_next_object());
  return oaep_hash_name(ber::algorithm_identifier(wrapper, field).get_oid());
}

/// RSAES-OAEP-params (RFC 3560 section 3, RFC 8017 appendix A.2.1); returns an
/// empty string when a field is not supported. Every field defaults to SHA-1.
std::string oaep_padding(const Botan::AlgorithmIdentifier& algorithm) {
  std::string hash = "SHA-160";
  std::string mgf_hash = "SHA-160";
  if (algorithm.parameters_are_null_or_empty())
    return "OAEP(SHA-160,MGF1(SHA-160))";

  Botan::BER_Decoder input(algorithm.get_parameters());
  Botan::BER_Decoder fields(ber::next(input, Botan::SEQUENCE, Botan::CONSTRUCTED, "RSAES-OAEP-params"));
  if (ber::next_is(fields, 0, ber::context_constructed))
    hash = explicit_hash(fields, "RSAES-OAEP-params.hashFunc");  // hashFunc [0]
  if (ber::next_is(fields, 1, ber::context_constructed)) {
    Botan::BER_Decoder wrapper(fields.get_next_object());  // maskGenFunc [1]
    const Botan::AlgorithmIdentifier mgf = ber::algorithm_identifier(wrapper, "RSAES-OAEP-params.maskGenFunc");
    if (mgf.get_oid() != id_mgf1)
      return "";
    Botan::BER_Decoder mgf_parameters(mgf.get_parameters());
    mgf_hash = oaep_hash_name(ber::algorithm_identifier(mgf_parameters, "MGF1 parameters").get_oid());
  }
  if (ber::next_is(fields, 2, ber::context_constructed)) {
    Botan::BER_Decoder wrapper(fields.get_next_object());  // pSourceFunc [2]: only the empty label
    const Botan::AlgorithmIdentifier source = ber::algorithm_identifier(wrapper, "RSAES-OAEP-params.pSourceFunc");
    Botan::BER_Decoder label(source.get_parameters());
    const bool empty_label =
        source.get_oid() == id_p_specified &&
        ber::octet_string(ber::next(label, Botan::OCTET_STRING, Botan::UNIVERSAL, "pSourceFunc"), "pSourceFunc")
            .empty();
    if (!empty_label)
      return "";
  }
  ber::expect_end(fields, "RSAES-OAEP-params");

  if (hash.empty() || mgf_hash.empty())
    return "";
  return "OAEP(" + hash + ",MGF1(" + mgf_hash + "))";
}

std::string key_transport_padding(const Botan::AlgorithmIdentifier& algorithm) {
  if (algorithm.get_oid() == rsa_encryption)
    return "EME-PKCS1-v1_5";
  if (algorithm.get_oid() == id_rsaes_oaep)
    return oaep_padding(algorithm);
  return "";
}

const key_trans_recipient_info* find_key_trans_recipient(const enveloped_data& data,
                                                         const Botan::X509_Certificate& certificate) {
  for (const key_trans_recipient_info& recipient : data.key_trans_recipients) {
    if (recipient.rid.matches(certificate))
      return &recipient;
  }
  return nullptr;
}

/// A KeyAgreeRecipientInfo and its RecipientEncryptedKey that names the certificate.
struct key_agree_match {
  const key_agree_recipient_info* info = nullptr;
  const recipient_encrypted_key* key = nullptr;
};

key_agree_match find_key_agree_recipient(const enveloped_data& data, const Botan::X509_Certificate& certificate) {
  for (const key_agree_recipient_info& info : data.key_agree_recipients) {
    for (const recipient_encrypted_key& key : info.recipient_encrypted_keys) {
      if (key.rid.matches(certificate))
        return {&info, &key};
    }
  }
  return {};
}

std::unique_ptr<Botan::Cipher_Mode> make_mode(const enveloped_data& data, const content_algorithm& algorithm,
                                              const Botan::secure_vector<uint8_t>& key) {
  if (!data.authenticated) {
    auto mode = Botan::Cipher_Mode::create_or_throw(algorithm.botan_name, Botan::DECRYPTION);
    mode->set_key(key);
    return mode;
  }

  auto mode = Botan::AEAD_Mode::create_or_throw(algorithm.botan_name, Botan::DECRYPTION);
  mode->set_key(key);
  if (data.authenticated_attributes_der) {
    const bytes& aad = *data.authenticated_attributes_der;
    mode->set_associated_data(aad.data(), aad.size());
  }
  return mode;
}

decrypt_result decrypt_content(const enveloped_data& data, const content_algorithm& algorithm,
                               const Botan::secure_vector<uint8_t>& key) {
  const bytes& ciphertext = *data.encrypted_content.encrypted_content;
  Botan::secure_vector<uint8_t> buffer(ciphertext.begin(), ciphertext.end());
  if (data.authenticated) {
    if (data.mac.size() != algorithm.tag_length)
      return failure(decrypt_status::malformed, "the mac has " + std::to_string(data.mac.size()) +
                                                    " bytes, but GCMParameters announce " +
                                                    std::to_string(algorithm.tag_length));
    buffer.insert(buffer.end(), data.mac.begin(), data.mac.end());
  }

  try {
    const std::unique_ptr<Botan::Cipher_Mode> mode = make_mode(data, algorithm, key);
    mode->start(algorithm.iv);
    mode->finish(buffer);
  } catch (const Botan::Invalid_Authentication_Tag&) {
    return failure(decrypt_status::authentication_failed,
                   "the AES-GCM tag does not match: the message was changed or is not for this key");
  } catch (const Botan::Exception& e) {
    return failure(decrypt_status::decryption_failed, std::string("the content does not decrypt (") + e.what() +
                                                          "): the message was changed or is not for this key");
  }

  decrypt_result result;
  result.status = decrypt_status::ok;
  result.content.assign(buffer.begin(), buffer.end());
  return result;
}

decrypt_result decrypt_key_trans(const enveloped_data& data, const content_algorithm& algorithm,
                                 const key_trans_recipient_info& recipient, const Botan::Private_Key& key,
                                 Botan::RandomNumberGenerator& rng) {
  if (key.algo_name() != "RSA")
    return failure(decrypt_status::unsupported_algorithm,
                   "a KeyTransRecipientInfo names the certificate, which needs an RSA key, but the key is " +
                       key.algo_name());
  const std::string padding = key_transport_padding(recipient.key_encryption_algorithm);
  if (padding.empty())
    return failure(decrypt_status::unsupported_algorithm,
                   "the key encryption algorithm " + recipient.key_encryption_algorithm.get_oid().to_formatted_string() +
                       " (or its parameters) is not supported; use rsaEncryption or RSAES-OAEP");

  // A bad encrypted key yields a random key of the right length instead of an
  // error, so a padding failure looks the same as a changed content (no padding oracle).
  Botan::PK_Decryptor_EME decryptor(key, rng, padding);
  const auto content_key = decryptor.decrypt_or_random(recipient.encrypted_key.data(), recipient.encrypted_key.size(),
                                                       algorithm.key_length, rng);
  return decrypt_content(data, algorithm, content_key);
}

decrypt_result decrypt_key_agree(const enveloped_data& data, const content_algorithm& algorithm,
                                 const key_agree_match& recipient, const Botan::Private_Key& key,
                                 Botan::RandomNumberGenerator& rng) {
  const auto* ec_key = dynamic_cast<const Botan::EC_PrivateKey*>(&key);
  if (ec_key == nullptr)
    return failure(decrypt_status::unsupported_algorithm,
                   "a KeyAgreeRecipientInfo names the certificate, which needs an EC key, but the key is " +
                       key.algo_name());

  // AES key wrap checks its own integrity and, unlike PKCS#1 v1.5 padding,
  // offers no oracle, so a bad wrapped key is reported at once.
  const key_agreement::content_key content_key = key_agreement::unwrap_content_key(
      *recipient.info, recipient.key->encrypted_key, *ec_key, algorithm.key_length, rng);
  if (content_key.status != decrypt_status::ok)
    return failure(content_key.status, content_key.detail);
  return decrypt_content(data, algorithm, content_key.key);
}

decrypt_result decrypt_enveloped(const enveloped_data& data, const Botan::Private_Key& key,
                                 const Botan::X509_Certificate& certificate, Botan::RandomNumberGenerator& rng) {
  const content_algorithm algorithm = choose_content_algorithm(data);
  if (algorithm.botan_name.empty())
    return failure(decrypt_status::unsupported_algorithm, algorithm.problem);

  const key_trans_recipient_info* key_trans = find_key_trans_recipient(data, certificate);
  const key_agree_match key_agree = find_key_agree_recipient(data, certificate);
  if (key_trans == nullptr && key_agree.info == nullptr) {
    std::string detail = "no RecipientInfo names the certificate " + certificate.subject_dn().to_string();
    if (data.other_recipient_count > 0)
      detail += "; " + std::to_string(data.other_recipient_count) +
                " recipients of other kinds (KEK, password, other) are not supported";
    return failure(decrypt_status::recipient_not_found, detail);
  }
  if (!data.encrypted_content.encrypted_content)
    return failure(decrypt_status::malformed, "the encrypted content is absent (detached), which is not supported");

  if (key_trans != nullptr)
    return decrypt_key_trans(data, algorithm, *key_trans, key, rng);
  return decrypt_key_agree(data, algorithm, key_agree, key, rng);
}

} // namespace

std::string to_string(decrypt_status status) {
  switch (status) {
    case decrypt_status::ok:
      return "ok";
    case decrypt_status::malformed:
      return "malformed";
    case decrypt_status::unsupported_algorithm:
      return "unsupported_algorithm";
    case decrypt_status::key_mismatch:
      return "key_mismatch";
    case decrypt_status::recipient_not_found:
      return "recipient_not_found";
    case decrypt_status::decryption_failed:
      return "decryption_failed";
    case decrypt_status::authentication_failed:
      return "authentication_failed";
  }
  return "unknown";
}

decrypt_result decrypt(const bytes& ber, const Botan::Private_Key& key, const Botan::X509_Certificate& certificate,
                       Botan::RandomNumberGenerator& rng) {
  if (!certs::key_matches_certificate(key, certificate))
    return failure(decrypt_status::key_mismatch, "the private key does not belong to the certificate " +
                                                     certificate.subject_dn().to_string());
  const std::string key_algorithm = key.algo_name();
  if (key_algorithm != "RSA" && key_algorithm != "ECDSA" && key_algorithm != "ECDH")
    return failure(decrypt_status::unsupported_algorithm,
                   "the recipient key is " + key_algorithm +
                       ", but only RSA keys (key transport) and EC keys (key agreement) are supported");
  try {
    return decrypt_enveloped(decode_enveloped_data(decode_content_info(ber)), key, certificate, rng);
  } catch (const decode_error& e) {
    return failure(decrypt_status::malformed, e.what());
  } catch (const Botan::Exception& e) {
    return failure(decrypt_status::malformed, std::string("malformed EnvelopedData: ") + e.what());
  }
}

} // namespace router::cms
