#include "runtime/compose/compose.hpp"

#include "runtime/compose/build_cache.hpp"
#include "runtime/compose/delivery_status.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/certs/usability.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"

#include <botan/hex.h>

namespace router::compose {

namespace {

using messages::built_message;
using messages::destination_plan;
using messages::reason_code;

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

built_message failure(built_message message, reason_code reason, const std::string& detail) {
  message.clear_message();
  message.set_planned_outcome(reason == messages::UNKNOWN_DESTINATION || reason == messages::SIGNATURE_NOT_AVAILABLE ||
                                      reason == messages::INVALID_JOB
                                  ? messages::REJECTED
                                  : messages::FAILED);
  message.set_reason(reason);
  message.set_detail(detail);
  return message;
}

/// Returns the reason code for a certificate usability verdict.
reason_code reason_for(certs::usability state) {
  switch (state) {
    case certs::usability::usable:
      return messages::REASON_NONE;
    case certs::usability::expired:
      return messages::CERTIFICATE_EXPIRED;
    case certs::usability::not_yet_valid:
      return messages::CERTIFICATE_NOT_YET_VALID;
    case certs::usability::untrusted:
      return messages::CERTIFICATE_UNTRUSTED;
    case certs::usability::revoked:
      return messages::CERTIFICATE_REVOKED;
    case certs::usability::wrong_key_usage:
      return messages::CERTIFICATE_WRONG_KEY_USAGE;
    case certs::usability::address_mismatch:
      return messages::CERTIFICATE_ADDRESS_MISMATCH;
  }
  return messages::BUILD_FAILED;
}

/// Judges a certificate through `verdicts` when given, else afresh.
certs::usability_verdict judge(const Botan::X509_Certificate& certificate, certs::purpose use,
                               const std::string& address, const config::loaded_config& config, time_point now,
                               certs::usability_cache* verdicts) {
  if (verdicts != nullptr)
    return verdicts->check(certificate, use, address, config.trust, now);
  return certs::check_usability(certificate, use, address, config.trust, now);
}

std::optional<device_certificate_problem> device_certificate_problem_at(const config::loaded_config& config,
                                                                        time_point now,
                                                                        certs::usability_cache* verdicts);

/// Returns the reason the device identity cannot sign at `now`, or REASON_NONE.
reason_code device_signing_reason(const config::loaded_config& config, time_point now, std::string& detail,
                                  certs::usability_cache* verdicts = nullptr) {
  const auto problem = device_certificate_problem_at(config, now, verdicts);
  if (!problem)
    return messages::REASON_NONE;
  detail = problem->detail + "; install a valid one for " + config.settings.device().sender_address();
  return messages::DEVICE_CERTIFICATE_UNUSABLE;
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

/// Signs an entity and appends "signed with ALGORITHM DIGEST" to `algorithms`.
/// Uses a PK_Signer from `signers` when given, else a new one.
std::string sign_entity(const config::loaded_config& config, const std::string& entity, time_point now,
                        Botan::RandomNumberGenerator& rng, std::string& algorithms,
                        cms::signer_cache* signers = nullptr) {
  cms::signer_identity signer;
  signer.certificate = &*config.device_certificate;
  signer.private_key = config.device_key.get();
  signer.intermediates = config.device_chain;

  const config::signing_settings& signing = config.settings.algorithms().signing();
  cms::signing_options options;
  // An Ed25519 key signs with SHA-512 whatever the setting, and micalg follows options.digest.
  options.digest = cms::signing_digest(*config.device_key, digest_of(config.settings.algorithms()));
  options.rsa_scheme =
      signing.rsa_scheme() == config::RSASSA_PSS ? cms::rsa_signature_scheme::pss : cms::rsa_signature_scheme::pkcs1v15;
  options.detached = signing.form() != config::OPAQUE;
  options.signing_time = now;

  const std::vector<uint8_t> content(entity.begin(), entity.end());
  const auto signature =
      signers != nullptr ? cms::sign(content, signer, options, *signers) : cms::sign(content, signer, options, rng);
  const bool pss = options.rsa_scheme == cms::rsa_signature_scheme::pss && config.device_key->algo_name() == "RSA";
  algorithms += "signed with " + config.device_key->algo_name() + (pss ? "-PSS " : " ") +
                cms::micalg_name(options.digest) + (options.detached ? "" : " (opaque)");
  if (!options.detached)
    return mime::build_pkcs7_mime_entity(signature, "signed-data");
  return mime::build_signed_entity(entity, signature, cms::micalg_name(options.digest),
                                   "=_signed_" + random_hex(rng, 12));
}

/// Encrypts an entity and appends "encrypted with CIPHER, KEY MANAGEMENT" to `algorithms`.
/// Takes the recipient's public key from `cache` when given.
std::string encrypt_entity(const config::loaded_config& config, const std::string& entity,
                           const std::string& destination_id, const Botan::X509_Certificate& certificate,
                           Botan::RandomNumberGenerator& rng, std::string& algorithms, build_cache* cache = nullptr) {
  const config::address_entry* entry = config.find_entry(destination_id);
  const cms::content_cipher cipher = cipher_for(config, entry);
  std::vector<cms::recipient> recipients{recipient_for(config, entry, certificate)};
  if (cache != nullptr)
    recipients.front().public_key = &cache->recipient_key(certificate);
  const std::string key_management =
      cms::uses_key_agreement(certificate)                                   ? "ECDH key agreement"
      : recipients.front().transport == cms::key_transport::rsa_oaep_sha256 ? "RSAES-OAEP"
                                                                             : "RSA PKCS#1 v1.5";
  algorithms += std::string(algorithms.empty() ? "" : ", then ") + "encrypted with " + cipher_name(cipher) + " and " +
                key_management;
  const std::vector<uint8_t> content(entity.begin(), entity.end());
  const auto envelope = cms::encrypt(content, recipients, cipher, rng);
  return mime::build_pkcs7_mime_entity(envelope,
                                       cms::is_authenticated(cipher) ? "authEnveloped-data" : "enveloped-data");
}

std::vector<mime::attachment> attachments_of(const messages::job_request& job) {
  std::vector<mime::attachment> attachments;
  for (const auto& source : job.attachments())
    attachments.push_back({source.filename(), source.content_type(), {source.data().begin(), source.data().end()}});
  return attachments;
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

} // namespace

messages::outcome planned_outcome(const destination_plan& plan) {
  if (plan.encrypt())
    return plan.sign() ? messages::SENT_ENCRYPTED_SIGNED : messages::SENT_ENCRYPTED;
  return plan.sign() ? messages::SENT_SIGNED : messages::SENT_PLAIN;
}

namespace {

/// Builds the message for one destination, reusing what `cache` keeps when it is not null.
built_message build(const config::loaded_config& config, const messages::job_request& job,
                    const destination_plan& plan, time_point now, Botan::RandomNumberGenerator& rng,
                    build_cache* cache) {
  certs::usability_cache* verdicts = cache != nullptr ? &cache->verdicts() : nullptr;
  built_message message;
  message.set_job_id(job.job_id());
  message.set_index(plan.index());
  message.set_destination_count(static_cast<uint32_t>(job.destinations_size()));
  message.set_destination_id(plan.destination_id());
  message.set_address(plan.address());
  message.set_envelope_from(config.settings.device().sender_address());

  if (plan.action() != messages::SEND)
    return failure(message, plan.reason(), plan.detail());

  // Judge the certificates at build time: they may have expired while the job waited.
  const Botan::X509_Certificate* recipient = nullptr;
  if (plan.encrypt()) {
    const auto found = config.destination_certificates.find(plan.destination_id());
    if (found == config.destination_certificates.end())
      return failure(message, messages::NO_CERTIFICATE,
                     "destination '" + plan.address() + "' has no certificate registered; register one");
    recipient = &found->second;
    const auto verdict = judge(*recipient, certs::purpose::encrypt, plan.address(), config, now, verdicts);
    if (verdict.state != certs::usability::usable)
      return failure(message, reason_for(verdict.state),
                     "certificate of '" + plan.address() + "' is unusable: " + verdict.detail +
                         "; register a valid certificate for this address");
  }
  if (plan.sign()) {
    std::string detail;
    const reason_code reason = device_signing_reason(config, now, detail, verdicts);
    if (reason != messages::REASON_NONE)
      return failure(message, reason, detail);
  }

  try {
    std::string entity =
        mime::build_document_entity(job.body_text(), attachments_of(job), "=_mixed_" + random_hex(rng, 12));
    std::string algorithms;
    if (plan.sign())
      entity = sign_entity(config, entity, now, rng, algorithms, cache != nullptr ? cache->device_signers() : nullptr);
    if (plan.encrypt())
      entity = encrypt_entity(config, entity, plan.destination_id(), *recipient, rng, algorithms, cache);

    const auto headers = headers_for(config, plan.address(), job.subject(), job.job_id(), now, rng);
    message.set_message(mime::build_message(headers, entity));
    message.set_planned_outcome(planned_outcome(plan));
    message.set_algorithms(algorithms);
    return message;
  } catch (const std::exception& e) {
    return failure(message, messages::BUILD_FAILED, std::string("cannot build the message: ") + e.what());
  }
}

} // namespace

built_message build_for_destination(const config::loaded_config& config, const messages::job_request& job,
                                    const destination_plan& plan, time_point now,
                                    Botan::RandomNumberGenerator& rng) {
  return build(config, job, plan, now, rng, nullptr);
}

built_message build_for_destination(build_cache& cache, const messages::job_request& job,
                                    const destination_plan& plan, time_point now) {
  return build(cache.config(), job, plan, now, cache.rng(), &cache);
}

namespace {

/// Returns whether a notice for a job of this function is signed: always under
/// USE_ALWAYS, never under DO_NOT_USE, else by the function's sign setting.
bool notice_is_signed(const config::loaded_config& config, config::source_function function) {
  switch (config.settings.signature_mode()) {
    case config::USE_ALWAYS:
      return true;
    case config::DO_NOT_USE:
      return false;
    default:
      break;
  }
  for (const auto& setting : config.settings.functions()) {
    if (setting.function() == function)
      return setting.sign();
  }
  return false;
}

} // namespace

built_message build_certificate_notice(const config::loaded_config& config, const messages::job_request& job,
                                       const std::vector<messages::destination_result>& failed, time_point now,
                                       Botan::RandomNumberGenerator& rng) {
  built_message message;
  const std::string& target = !job.originator().empty() ? job.originator() : job.end_receiver();
  if (target.empty() || failed.empty())
    return message;

  message.set_job_id(job.job_id() + "-notice");
  message.set_destination_count(1);
  message.set_address(target);
  message.set_envelope_from(config.settings.device().sender_address());

  delivery_status_report report;
  report.job_id = job.job_id();
  report.reporting_domain = domain_of(config.settings.device().sender_address());
  report.date = mime::format_date(unix_seconds(now));
  for (const auto& result : failed)
    report.failed.push_back({result.address(), messages::reason_code_Name(result.reason()), result.detail()});

  try {
    std::string entity = build_delivery_status_entity(report, "=_report_" + random_hex(rng, 12));
    std::string detail;
    const bool sign = notice_is_signed(config, job.function()) &&
                      device_signing_reason(config, now, detail) == messages::REASON_NONE;
    std::string algorithms;
    if (sign)
      entity = sign_entity(config, entity, now, rng, algorithms);

    const auto headers =
        headers_for(config, target, "Delivery failure: certificate problem for job " + job.job_id(),
                    job.job_id(), now, rng);
    message.set_message(mime::build_message(headers, entity));
    message.set_planned_outcome(sign ? messages::SENT_SIGNED : messages::SENT_PLAIN);
  } catch (const std::exception& e) {
    return failure(message, messages::BUILD_FAILED, std::string("cannot build the notice: ") + e.what());
  }
  return message;
}

std::optional<device_certificate_problem> check_device_certificate(const config::loaded_config& config,
                                                                  time_point now) {
  return device_certificate_problem_at(config, now, nullptr);
}

namespace {

std::optional<device_certificate_problem> device_certificate_problem_at(const config::loaded_config& config,
                                                                        time_point now,
                                                                        certs::usability_cache* verdicts) {
  if (!config.device_certificate || !config.device_key)
    return device_certificate_problem{"missing", "no device signing certificate is configured; set "
                                                 "device.certificate_file and device.private_key_file"};

  const auto& certificate = *config.device_certificate;
  const auto verdict =
      judge(certificate, certs::purpose::sign, config.settings.device().sender_address(), config, now, verdicts);
  if (verdict.state == certs::usability::usable)
    return std::nullopt;

  const std::string fingerprint = certs::fingerprint_sha256(certificate);
  return device_certificate_problem{
      certs::to_string(verdict.state) + ":" + fingerprint,
      "the device signing certificate (SHA-256 " + fingerprint + ") is unusable: " + verdict.detail};
}

} // namespace

built_message build_administrator_notice(const config::loaded_config& config, const std::string& subject,
                                         const std::string& body, const std::string& notice_id, time_point now,
                                         Botan::RandomNumberGenerator& rng) {
  built_message message;
  const std::string& admin = config.settings.device().admin_address();
  if (admin.empty())
    return message;

  message.set_job_id(notice_id);
  message.set_destination_count(1);
  message.set_address(admin);
  message.set_envelope_from(config.settings.device().sender_address());
  try {
    const std::string entity = mime::build_document_entity(body, {}, "=_admin_" + random_hex(rng, 12));
    const auto headers = headers_for(config, admin, subject, notice_id, now, rng);
    message.set_message(mime::build_message(headers, entity));
    message.set_planned_outcome(messages::SENT_PLAIN);
  } catch (const std::exception& e) {
    return failure(message, messages::BUILD_FAILED, std::string("cannot build the administrator notice: ") + e.what());
  }
  return message;
}

built_message build_device_certificate_notice(const config::loaded_config& config,
                                              const device_certificate_problem& problem, const std::string& job_id,
                                              time_point now, Botan::RandomNumberGenerator& rng) {
  const std::string body =
      "The device cannot sign outgoing mail, so messages that need a signature are not sent.\n\n"
      "Problem: " + problem.detail + "\n"
      "First failed job: " + job_id + "\n\n"
      "Install a valid signing certificate and key for " + config.settings.device().sender_address() +
      ". This notice is sent once for this problem.\n";
  return build_administrator_notice(config, "Device signing certificate unusable", body, job_id + "-admin", now, rng);
}

} // namespace router::compose
