// Send policy: the rules that decide, per destination, whether a message is
// encrypted, signed, or not sent at all.
//
// Each rule is one helper below. plan_destination applies them in this order:
// job-wide rejections, destination lookup, signature, encryption, certificate
// validity. The first rule that stops a destination sets its action and reason.
// Limits: only the validity period of a destination certificate is checked
// here. Trust, revocation, key usage and the address match are checked when
// the message is built.
#include "runtime/policy/policy.hpp"

#include <ctime>
#include <string>
#include <unordered_map>

namespace router::policy {
namespace {

using config::destination_kind;
using config::signature_mode;
using config::source_function;
using messages::destination_plan;
using messages::destination_ref;
using messages::job_request;
using messages::reason_code;

using address_book_index = std::unordered_map<std::string, const config::address_entry*>;

/// A job destination after the address-book lookup.
struct resolved_destination {
  reason_code problem = messages::REASON_NONE; // why the reference names no destination
  destination_kind kind = config::EMAIL;
  bool encrypt_flag = false;
  bool sign_default = false;
  const certificate_info* certificate = nullptr;
};

/// Everything the per-destination rules need to know about the job.
struct job_context {
  const job_request& job;
  const config::router_config& config;
  const certificate_index& certificates;
  const address_book_index book;
  const config::function_setting settings;
  const bool encryption_requested;
  const bool signature_refused;
  const time_point now;
};

/// Whether the encryption rules require encryption, and why the destination
/// cannot be sent when they require it but cannot meet it.
struct encryption_decision {
  bool encrypt = false;
  reason_code failure = messages::REASON_NONE;
};

std::string function_label(source_function function) {
  switch (function) {
  case config::STANDARD_ADDRESS:
    return "standard address";
  case config::EMAIL_TX_RESULTS:
    return "Email TX Results";
  case config::FOLDER_TRANSFER_RESULT_REPORT:
    return "Folder Transfer Result Report";
  case config::STORE:
    return "Store";
  case config::PERSONAL_BOX:
    return "Personal Box";
  case config::TRANSFER_BOX:
    return "Transfer Box";
  case config::FORWARDING:
    return "Forwarding";
  case config::SMTP_RECEPTION:
    return "SMTP reception";
  default:
    return "unknown";
  }
}

std::string format_utc(time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm fields{};
  gmtime_r(&seconds, &fields);

  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &fields);
  return text;
}

/// Names a destination for a detail: its address-book id, else its address.
std::string quoted_name(const destination_plan& plan) {
  const std::string& name = plan.destination_id().empty() ? plan.address() : plan.destination_id();
  return "'" + name + "'";
}

address_book_index index_address_book(const config::router_config& config) {
  address_book_index book;
  for (const auto& entry : config.address_book())
    book.emplace(entry.id(), &entry); // the first entry wins if the loader let a duplicate id through
  return book;
}

/// Returns the function's settings; a function without an entry has encrypt
/// and sign off.
config::function_setting find_function_setting(const config::router_config& config,
                                               source_function function) {
  for (const auto& setting : config.functions()) {
    if (setting.function() == function)
      return setting;
  }
  config::function_setting absent;
  absent.set_function(function);
  return absent;
}

bool is_known_function(source_function function) {
  return function != config::SOURCE_FUNCTION_UNSPECIFIED && config::source_function_IsValid(function);
}

bool is_internet_fax(destination_kind kind) {
  return kind == config::INTERNET_FAX;
}

/// A send requests encryption when the user requests it or the function's
/// "encrypt" setting is on.
bool is_encryption_requested(const job_request& job, const config::function_setting& settings) {
  return job.request_encrypt() || settings.encrypt();
}

/// A job requests a signature explicitly when its job-wide or any
/// per-destination request is SIGN_REQUEST_ON. Leaving it unspecified is no request.
bool job_requests_signature(const job_request& job) {
  if (job.request_sign() == messages::SIGN_REQUEST_ON)
    return true;

  for (const auto& ref : job.destinations()) {
    if (ref.sign() == messages::SIGN_REQUEST_ON)
      return true;
  }
  return false;
}

/// In "do not use" mode the signature option does not exist, so a job that
/// requests one is invalid as a whole.
bool is_signature_refused(const config::router_config& config, const job_request& job) {
  return config.signature_mode() == config::DO_NOT_USE && job_requests_signature(job);
}

/// Looks up a destination and fills the plan's id, address and kind. A bare
/// address is an e-mail destination with no certificate, encrypt flag off and
/// sign default off. A reference that gives both an id and an address must
/// give the entry's own address, so a message encrypted for one entry never
/// goes to another address.
resolved_destination resolve_destination(const job_context& context, const destination_ref& ref,
                                         destination_plan& plan) {
  plan.set_destination_id(ref.id());
  plan.set_address(ref.address());

  resolved_destination destination;
  if (ref.id().empty() && ref.address().empty()) {
    destination.problem = messages::INVALID_JOB;
    return destination;
  }
  if (ref.id().empty()) {
    plan.set_kind(config::EMAIL);
    return destination;
  }

  const auto entry = context.book.find(ref.id());
  if (entry == context.book.end()) {
    destination.problem = messages::UNKNOWN_DESTINATION;
    return destination;
  }

  const config::address_entry& book_entry = *entry->second;
  // NOTE: the config loader rejects an entry without a kind; one that gets
  // through is treated as e-mail, which may sign it.
  destination.kind = is_internet_fax(book_entry.kind()) ? config::INTERNET_FAX : config::EMAIL;
  destination.encrypt_flag = book_entry.encrypt();
  destination.sign_default = book_entry.sign();
  plan.set_kind(destination.kind);

  const auto certificate = context.certificates.find(ref.id());
  if (certificate != context.certificates.end())
    destination.certificate = &certificate->second;

  if (!ref.address().empty() && ref.address() != book_entry.address()) {
    destination.problem = messages::INVALID_JOB;
    return destination;
  }
  plan.set_address(book_entry.address());
  return destination;
}

/// Returns the standby-screen signature choice: the destination's own request,
/// else the job's request, else the address-book entry's default.
bool standby_signature_choice(const job_request& job, const destination_ref& ref,
                              const resolved_destination& destination) {
  if (ref.sign() == messages::SIGN_REQUEST_ON)
    return true;
  if (ref.sign() == messages::SIGN_REQUEST_OFF)
    return false;

  if (job.request_sign() == messages::SIGN_REQUEST_ON)
    return true;
  if (job.request_sign() == messages::SIGN_REQUEST_OFF)
    return false;

  return destination.sign_default;
}

/// Decides the signature. Internet-fax destinations are never signed, in
/// every mode. "Use always" signs every other destination and no request can
/// turn it off. "Do not use" signs nothing. "Set individually", also used when
/// the mode is unspecified, takes the standby-screen choice for the standard
/// address function and the function's own "sign" setting otherwise.
bool decide_signature(const job_context& context, const destination_ref& ref,
                      const resolved_destination& destination) {
  if (is_internet_fax(destination.kind))
    return false;

  const signature_mode mode = context.config.signature_mode();
  if (mode == config::USE_ALWAYS)
    return true;
  if (mode == config::DO_NOT_USE)
    return false;

  if (context.job.function() == config::STANDARD_ADDRESS)
    return standby_signature_choice(context.job, ref, destination);
  return context.settings.sign();
}

/// Encrypt All encrypts every destination regardless of its encrypt flag, and
/// promises that nothing leaves in clear. A destination it cannot encrypt therefore
/// fails instead of being sent unencrypted.
encryption_decision decide_encrypt_all(const job_context& context,
                                       const resolved_destination& destination) {
  if (is_internet_fax(destination.kind) && !may_encrypt_internet_fax(context.job.function()))
    return {true, messages::INTERNET_FAX_NOT_ENCRYPTABLE};
  if (destination.certificate == nullptr)
    return {true, messages::NO_CERTIFICATE};
  return {true, messages::REASON_NONE};
}

/// Decides the encryption. Without Encrypt All, a send that requests
/// encryption encrypts each destination with its flag on and a certificate
/// registered, and sends the others unencrypted. Internet-fax destinations
/// are encrypted only by the functions allowed to encrypt them.
encryption_decision decide_encryption(const job_context& context,
                                      const resolved_destination& destination) {
  if (context.config.encrypt_all())
    return decide_encrypt_all(context, destination);

  if (!context.encryption_requested)
    return {};
  if (is_internet_fax(destination.kind) && !may_encrypt_internet_fax(context.job.function()))
    return {};

  const bool configured = destination.encrypt_flag && destination.certificate != nullptr;
  return {configured, messages::REASON_NONE};
}

/// Returns why a certificate cannot be used at `now`, or REASON_NONE. The
/// validity period includes both of its ends.
reason_code check_validity(const certificate_info& certificate, time_point now) {
  if (certificate.not_after < now)
    return messages::CERTIFICATE_EXPIRED;
  if (now < certificate.not_before)
    return messages::CERTIFICATE_NOT_YET_VALID;
  return messages::REASON_NONE;
}

destination_plan finish(destination_plan plan, messages::plan_action action, reason_code reason,
                        std::string detail) {
  plan.set_action(action);
  plan.set_reason(reason);
  plan.set_detail(std::move(detail));
  return plan;
}

std::string invalid_function_detail(const job_context& context) {
  return "the job names no valid source function (value " + std::to_string(context.job.function()) +
         "); set the function the document comes from";
}

std::string signature_refused_detail(const destination_plan& plan) {
  return "the job requests a signature but the signature mode is 'do not use', so destination " +
         quoted_name(plan) + " is not sent; remove the signature request or change the signature mode";
}

std::string unresolved_detail(const job_context& context, const destination_ref& ref,
                              const destination_plan& plan) {
  if (ref.id().empty())
    return "destination at index " + std::to_string(plan.index()) +
           " has neither an address-book id nor an address; give one of them";

  const auto entry = context.book.find(ref.id());
  if (entry == context.book.end())
    return "destination id '" + ref.id() +
           "' is not in the address book; correct the id or add the entry";
  return "destination '" + ref.id() + "' is given with address '" + ref.address() +
         "', but its address-book address is '" + entry->second->address() +
         "'; give the id or the address, not both";
}

std::string encryption_failure_detail(const job_context& context, const destination_plan& plan,
                                      reason_code reason) {
  if (reason == messages::INTERNET_FAX_NOT_ENCRYPTABLE)
    return "destination " + quoted_name(plan) + " is an Internet-fax destination, which the " +
           function_label(context.job.function()) +
           " function may not encrypt, and Encrypt All is on; send it through Forwarding, "
           "Personal Box, SMTP reception or Transfer Box, or turn Encrypt All off";
  return "destination " + quoted_name(plan) +
         " has no certificate registered and Encrypt All is on; register its certificate or "
         "turn Encrypt All off";
}

std::string validity_detail(const destination_plan& plan, const certificate_info& certificate,
                            reason_code reason) {
  if (reason == messages::CERTIFICATE_EXPIRED)
    return "the certificate of destination " + quoted_name(plan) + " expired at " +
           format_utc(certificate.not_after) + "; register a renewed certificate";
  return "the certificate of destination " + quoted_name(plan) + " is not valid before " +
         format_utc(certificate.not_before) +
         "; check the device clock or register a certificate that is valid now";
}

destination_plan plan_destination(const job_context& context, const destination_ref& ref,
                                  uint32_t index) {
  destination_plan plan;
  plan.set_index(index);
  const resolved_destination destination = resolve_destination(context, ref, plan);

  if (!is_known_function(context.job.function()))
    return finish(plan, messages::REJECT, messages::INVALID_JOB, invalid_function_detail(context));
  if (context.signature_refused)
    return finish(plan, messages::REJECT, messages::SIGNATURE_NOT_AVAILABLE,
                  signature_refused_detail(plan));
  if (destination.problem != messages::REASON_NONE)
    return finish(plan, messages::REJECT, destination.problem,
                  unresolved_detail(context, ref, plan));

  plan.set_sign(decide_signature(context, ref, destination));

  const encryption_decision encryption = decide_encryption(context, destination);
  plan.set_encrypt(encryption.encrypt);
  if (encryption.failure != messages::REASON_NONE)
    return finish(plan, messages::FAIL, encryption.failure,
                  encryption_failure_detail(context, plan, encryption.failure));
  if (!encryption.encrypt)
    return finish(plan, messages::SEND, messages::REASON_NONE, "");

  // The builder checks the certificate again when it builds the message, so
  // the notice flag is set on plans that are sent as well as on failures.
  const certificate_info& certificate = *destination.certificate;
  plan.set_certificate_file(certificate.file);
  plan.set_notify_on_certificate_failure(notifies_on_certificate_failure(context.job.function()));

  const reason_code validity = check_validity(certificate, context.now);
  if (validity != messages::REASON_NONE)
    return finish(plan, messages::FAIL, validity, validity_detail(plan, certificate, validity));
  return finish(plan, messages::SEND, messages::REASON_NONE, "");
}

} // namespace

bool may_encrypt_internet_fax(source_function function) {
  switch (function) {
  case config::FORWARDING:
  case config::PERSONAL_BOX:
  case config::SMTP_RECEPTION:
  case config::TRANSFER_BOX:
    return true;
  default:
    return false;
  }
}

bool notifies_on_certificate_failure(source_function function) {
  switch (function) {
  case config::FORWARDING:
  case config::PERSONAL_BOX:
  case config::SMTP_RECEPTION:
    return true;
  default:
    return false;
  }
}

messages::job_plan plan_job(const job_request& job, const config::router_config& config,
                            const certificate_index& certificates, time_point now) {
  const config::function_setting settings = find_function_setting(config, job.function());
  const job_context context{job,
                            config,
                            certificates,
                            index_address_book(config),
                            settings,
                            is_encryption_requested(job, settings),
                            is_signature_refused(config, job),
                            now};

  messages::job_plan plan;
  plan.set_job_id(job.job_id());
  for (int i = 0; i < job.destinations_size(); ++i)
    *plan.add_destinations() = plan_destination(context, job.destinations(i), static_cast<uint32_t>(i));
  return plan;
}

} // namespace router::policy
