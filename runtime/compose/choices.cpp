// Algorithm, signer, recipient and header choices; see choices.hpp.
#include "runtime/compose/choices.hpp"

#include "runtime/mime/received_message.hpp"

#include <botan/hex.h>

#include <cctype>

namespace router::compose::detail {

namespace {

cms::digest_algorithm digest_of(const config::algorithm_settings& settings) {
  switch (settings.digest()) {
    case config::SHA384:
      return cms::digest_algorithm::sha384;
    case config::SHA512:
      return cms::digest_algorithm::sha512;
    default:
      return cms::digest_algorithm::sha256;
  }
}

cms::content_cipher cipher_of(config::content_cipher cipher) {
  switch (cipher) {
    case config::AES128_CBC:
      return cms::content_cipher::aes128_cbc;
    case config::AES192_CBC:
      return cms::content_cipher::aes192_cbc;
    case config::AES128_GCM:
      return cms::content_cipher::aes128_gcm;
    case config::AES256_GCM:
      return cms::content_cipher::aes256_gcm;
    default:
      return cms::content_cipher::aes256_cbc;
  }
}

cms::key_transport transport_of(config::key_transport transport) {
  return transport == config::RSA_OAEP_SHA256 ? cms::key_transport::rsa_oaep_sha256
                                              : cms::key_transport::rsa_pkcs1v15;
}

/// Returns the destination's content cipher: its own setting, else the first of
/// its known capabilities, else the configured default.
cms::content_cipher cipher_for(const config::loaded_config& config, const config::address_entry* entry) {
  if (entry != nullptr && entry->content_cipher() != config::CONTENT_CIPHER_UNSPECIFIED)
    return cipher_of(entry->content_cipher());
  if (entry != nullptr && entry->capabilities_size() > 0)
    return cipher_of(entry->capabilities(0));
  return cipher_of(config.settings.algorithms().content_cipher());
}

/// Returns the recipient for a destination certificate. The certificate's key
/// type picks transport or agreement inside cms::encrypt().
cms::recipient recipient_for(const config::loaded_config& config, const config::address_entry* entry,
                             const Botan::X509_Certificate& certificate) {
  const config::algorithm_settings& algorithms = config.settings.algorithms();
  const bool own_transport = entry != nullptr && entry->key_transport() != config::KEY_TRANSPORT_UNSPECIFIED;

  cms::recipient recipient;
  recipient.certificate = &certificate;
  recipient.transport = transport_of(own_transport ? entry->key_transport() : algorithms.key_transport());
  recipient.identifier = algorithms.recipient_identifier() == config::SUBJECT_KEY_IDENTIFIER
                             ? cms::recipient_identifier::subject_key_identifier
                             : cms::recipient_identifier::issuer_and_serial_number;
  return recipient;
}

/// Returns the readable name of a content cipher, e.g. "AES-256-CBC".
std::string cipher_name(cms::content_cipher cipher) {
  switch (cipher) {
    case cms::content_cipher::aes128_cbc:
      return "AES-128-CBC";
    case cms::content_cipher::aes192_cbc:
      return "AES-192-CBC";
    case cms::content_cipher::aes256_cbc:
      return "AES-256-CBC";
    case cms::content_cipher::aes128_gcm:
      return "AES-128-GCM";
    case cms::content_cipher::aes256_gcm:
      return "AES-256-GCM";
  }
  return "unknown";
}

} // namespace

std::string random_hex(Botan::RandomNumberGenerator& rng, size_t bytes) {
  return Botan::hex_encode(rng.random_vec(bytes), false);
}

std::string domain_of(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

int64_t unix_seconds(time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

signing_choice choose_signing(const config::loaded_config& config, time_point now) {
  signing_choice choice;
  choice.signer.certificate = &*config.device_certificate;
  choice.signer.private_key = config.device_key.get();
  choice.signer.intermediates = config.device_chain;

  const config::signing_settings& signing = config.settings.algorithms().signing();
  cms::signing_options& options = choice.options;
  // An Ed25519 key signs with SHA-512 whatever the setting, and micalg follows options.digest.
  options.digest = cms::signing_digest(*config.device_key, digest_of(config.settings.algorithms()));
  options.rsa_scheme =
      signing.rsa_scheme() == config::RSASSA_PSS ? cms::rsa_signature_scheme::pss : cms::rsa_signature_scheme::pkcs1v15;
  options.detached = signing.form() != config::OPAQUE;
  options.signing_time = now;

  const bool pss = options.rsa_scheme == cms::rsa_signature_scheme::pss && config.device_key->algo_name() == "RSA";
  choice.description = "signed with " + config.device_key->algo_name() + (pss ? "-PSS " : " ") +
                       cms::micalg_name(options.digest) + (options.detached ? "" : " (opaque)");
  return choice;
}

encryption_choice choose_encryption(const config::loaded_config& config, const std::string& destination_id,
                                    const Botan::X509_Certificate& certificate) {
  const config::address_entry* entry = config.find_entry(destination_id);
  encryption_choice choice;
  choice.cipher = cipher_for(config, entry);
  choice.recipients = {recipient_for(config, entry, certificate)};
  const std::string key_management =
      cms::uses_key_agreement(certificate)                                          ? "ECDH key agreement"
      : choice.recipients.front().transport == cms::key_transport::rsa_oaep_sha256 ? "RSAES-OAEP"
                                                                                    : "RSA PKCS#1 v1.5";
  choice.description = "encrypted with " + cipher_name(choice.cipher) + " and " + key_management;
  return choice;
}

mime::message_headers headers_for(const config::loaded_config& config, const std::string& to,
                                  const std::string& subject, const std::string& job_id, time_point now,
                                  Botan::RandomNumberGenerator& rng) {
  const std::string& sender = config.settings.device().sender_address();
  mime::message_headers headers;
  headers.from = sender;
  headers.to = {to};
  headers.subject = subject;
  headers.date = mime::format_date(unix_seconds(now));
  std::string safe_job;
  for (unsigned char c : job_id)
    safe_job += (std::isalnum(c) != 0 || c == '-') ? static_cast<char>(c) : '_';
  headers.message_id = "<" + random_hex(rng, 12) + "." + safe_job.substr(0, 40) + "@" + domain_of(sender) + ">";
  return headers;
}

std::vector<std::string> received_trace(const messages::job_request& job) {
  std::vector<std::string> trace;
  if (job.received_message().empty())
    return trace;
  for (const auto& field : mime::split_received_message(job.received_message()).fields_named("Received")) {
    if (mime::is_trace_field(field.raw))
      trace.push_back(field.raw);
  }
  return trace;
}

} // namespace router::compose::detail
