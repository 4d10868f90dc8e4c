#include "runtime/compose/compose.hpp"

#include "runtime/compose/build_cache.hpp"
#include "runtime/compose/choices.hpp"
#include "runtime/compose/delivery_status.hpp"
#include "runtime/compose/file_build.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/certs/usability.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/mime/received_message.hpp"

#include <botan/hex.h>

#include <regex>

namespace router::compose {

namespace {

using messages::built_message;
using messages::destination_plan;
using messages::reason_code;
using namespace detail;

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

/// Signs an entity and appends "signed with ALGORITHM DIGEST" to `algorithms`.
/// Uses a PK_Signer from `signers` when given, else a new one.
std::string sign_entity(const config::loaded_config& config, const std::string& entity, time_point now,
                        Botan::RandomNumberGenerator& rng, std::string& algorithms,
                        cms::signer_cache* signers = nullptr) {
  const signing_choice choice = choose_signing(config, now);
  const std::vector<uint8_t> content(entity.begin(), entity.end());
  const auto signature = signers != nullptr ? cms::sign(content, choice.signer, choice.options, *signers)
                                            : cms::sign(content, choice.signer, choice.options, rng);
  algorithms += choice.description;
  if (!choice.options.detached)
    return mime::build_pkcs7_mime_entity(signature, "signed-data");
  return mime::build_signed_entity(entity, signature, cms::micalg_name(choice.options.digest),
                                   "=_signed_" + random_hex(rng, 12));
}

/// Encrypts an entity and appends "encrypted with CIPHER, KEY MANAGEMENT" to `algorithms`.
/// Takes the recipient's public key from `cache` when given.
std::string encrypt_entity(const config::loaded_config& config, const std::string& entity,
                           const std::string& destination_id, const Botan::X509_Certificate& certificate,
                           Botan::RandomNumberGenerator& rng, std::string& algorithms, build_cache* cache = nullptr) {
  encryption_choice choice = choose_encryption(config, destination_id, certificate);
  if (cache != nullptr)
    choice.recipients.front().public_key = &cache->recipient_key(certificate);
  algorithms += std::string(algorithms.empty() ? "" : ", then ") + choice.description;
  const std::vector<uint8_t> content(entity.begin(), entity.end());
  const auto envelope = cms::encrypt(content, choice.recipients, choice.cipher, rng);
  return mime::build_pkcs7_mime_entity(envelope,
                                       cms::is_authenticated(choice.cipher) ? "authEnveloped-data" : "enveloped-data");
}

std::vector<mime::attachment> attachments_of(const messages::job_request& job) {
  std::vector<mime::attachment> attachments;
  for (const auto& source : job.attachments())
    attachments.push_back({source.filename(), source.content_type(), {source.data().begin(), source.data().end()}});
  return attachments;
}

/// Returns the entity to sign or encrypt: the received message's content entity
/// byte for byte when the job routes one, else a document built from the text
/// and attachments.
std::string document_entity(const messages::job_request& job, Botan::RandomNumberGenerator& rng) {
  if (job.received_message().empty())
    return mime::build_document_entity(job.body_text(), attachments_of(job), "=_mixed_" + random_hex(rng, 12));

  return received_entity(job);
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
    if (builds_as_file(job))
      return build_message_file(config, job, plan, recipient, now, rng, message);
    std::string entity = document_entity(job, rng);
    std::string algorithms;
    if (plan.sign())
      entity = sign_entity(config, entity, now, rng, algorithms, cache != nullptr ? cache->device_signers() : nullptr);
    if (plan.encrypt())
      entity = encrypt_entity(config, entity, plan.destination_id(), *recipient, rng, algorithms, cache);

    auto headers = headers_for(config, plan.address(), job.subject(), job.job_id(), now, rng);
    headers.trace = received_trace(job);
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

/// Returns the relay's SMTP reply that a delivery failure's detail quotes, such
/// as "550 5.1.1 mailbox unavailable" in "relay HOST:PORT: the relay rejected
/// RCPT TO: 550 5.1.1 mailbox unavailable", or "" when the detail has none.
std::string smtp_reply_of(const messages::destination_result& result) {
  if (result.reason() != messages::DELIVERY_FAILED && result.reason() != messages::DELIVERY_DEFERRED)
    return "";
  // The SMTP client ends its detail with ": " and the reply's code and text.
  static const std::regex quoted_reply(": ([245][0-9][0-9](?:[ -].*)?)$");
  std::smatch found;
  if (std::regex_search(result.detail(), found, quoted_reply))
    return found[1].str();
  return "";
}

/// Returns the RFC 3463 status code a notice gives a failed destination.
/// A destination still deferred when the queue lifetime ran out gets 4.4.7
/// (delivery time expired), whatever the relay's last reply was. Any other
/// gets the enhanced code in the relay's reply when there is one, else one
/// for the reason.
std::string status_for(const messages::destination_result& result) {
  if (result.reason() == messages::DELIVERY_DEFERRED)
    return "4.4.7";
  if (result.reason() == messages::DELIVERY_FAILED) {
    // A reply such as "550 5.1.1 mailbox unavailable" inside the detail.
    static const std::regex reply_code("\\b[245][0-9][0-9][ -]([245]\\.[0-9]{1,3}\\.[0-9]{1,3})\\b");
    std::smatch found;
    if (std::regex_search(result.detail(), found, reply_code))
      return found[1].str();
    return "5.0.0";  // other or undefined status
  }
  switch (result.reason()) {
    case messages::UNKNOWN_DESTINATION:
      return "5.1.1";  // bad destination mailbox address
    case messages::DEVICE_CERTIFICATE_UNUSABLE:
      return "5.7.0";  // other security or policy status
    default:
      break;
  }
  // X.7.5: cryptographic failure, the key was missing or invalid.
  return "5.7.5";
}

failed_destination failed_destination_of(const messages::destination_result& result) {
  std::string detail = result.detail();
  if (result.reason() == messages::DELIVERY_DEFERRED)
    detail = "gave up after the queue lifetime; last failure: " + detail;
  return {result.address().empty() ? result.destination_id() : result.address(),
          messages::reason_code_Name(result.reason()), detail, status_for(result), smtp_reply_of(result)};
}

original_fields original_fields_of(const messages::original_message& original) {
  return {original.subject(), original.message_id(), original.date()};
}

/// Puts the report in a message to `message.address()`, signed when the job's
/// function signs notices and the device certificate can sign.
built_message finish_notice(const config::loaded_config& config, const messages::job_request& job,
                            const delivery_status_report& report, const std::string& subject, time_point now,
                            Botan::RandomNumberGenerator& rng, built_message message) {
  try {
    std::string entity = build_delivery_status_entity(report, "=_report_" + random_hex(rng, 12));
    std::string detail;
    const bool sign = notice_is_signed(config, job.function()) &&
                      device_signing_reason(config, now, detail) == messages::REASON_NONE;
    std::string algorithms;
    if (sign)
      entity = sign_entity(config, entity, now, rng, algorithms);

    const auto headers = headers_for(config, message.address(), subject, job.job_id(), now, rng);
    message.set_message(mime::build_message(headers, entity));
    message.set_planned_outcome(sign ? messages::SENT_SIGNED : messages::SENT_PLAIN);
  } catch (const std::exception& e) {
    return failure(message, messages::BUILD_FAILED, std::string("cannot build the notice: ") + e.what());
  }
  return message;
}

} // namespace

built_message build_certificate_notice(const config::loaded_config& config, const messages::job_request& job,
                                       const std::vector<messages::destination_result>& failed, time_point now,
                                       Botan::RandomNumberGenerator& rng, const messages::original_message& original) {
  built_message message;
  const std::string& target = !job.originator().empty() ? job.originator() : job.end_receiver();
  if (target.empty() || failed.empty())
    return message;

  message.set_job_id(job.job_id() + "-notice");
  message.set_destination_count(1);
  message.set_address(target);
  message.set_envelope_from(config.settings.device().sender_address());

  delivery_status_report report;
  report.cause = report_cause::certificate;
  report.job_id = job.job_id();
  report.reporting_domain = domain_of(config.settings.device().sender_address());
  report.date = mime::format_date(unix_seconds(now));
  report.original = original_fields_of(original);
  for (const auto& result : failed)
    report.failed.push_back(failed_destination_of(result));

  const std::string subject = "Delivery failure: certificate problem for job " + job.job_id();
  return finish_notice(config, job, report, subject, now, rng, std::move(message));
}

messages::original_message original_message_of(const std::string& received_message) {
  const mime::received_parts parts = mime::split_received_message(received_message);
  messages::original_message original;
  original.set_subject(parts.field("Subject"));
  original.set_message_id(parts.field("Message-ID"));
  original.set_date(parts.field("Date"));
  return original;
}

built_message build_delivery_failure_notice(const config::loaded_config& config,
                                            const messages::delivery_failure_notice_request& request, time_point now,
                                            Botan::RandomNumberGenerator& rng) {
  built_message message;
  const messages::job_request& job = request.job();
  if (request.recipient().empty() || request.failed().empty())
    return message;

  message.set_job_id(job.job_id() + "-bounce");
  message.set_destination_count(1);
  message.set_address(request.recipient());
  // RFC 5321 section 4.5.5: a non-delivery notice is sent with the null
  // reverse path, so a notice about the notice is never sent back.
  message.set_envelope_from("");

  delivery_status_report report;
  report.cause = report_cause::delivery;
  report.job_id = job.job_id();
  report.reporting_domain = domain_of(config.settings.device().sender_address());
  report.arrival_date = mime::format_date(request.arrival_unix());
  report.date = mime::format_date(unix_seconds(now));
  report.original = original_fields_of(request.original());
  for (const auto& result : request.failed())
    report.failed.push_back(failed_destination_of(result));

  const std::string subject =
      job.subject().empty() ? "Undelivered mail returned to sender" : "Undelivered mail: " + job.subject();
  return finish_notice(config, job, report, subject, now, rng, std::move(message));
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
