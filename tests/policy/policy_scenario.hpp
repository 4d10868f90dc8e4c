// Builds one-destination policy scenarios for the policy tests: the config,
// the job and the certificate index for one address-book entry, planned at a
// fixed clock, and the expected plan the tests compare against.
#pragma once

#include "runtime/policy/policy.hpp"

#include <string>

namespace router::policy::testing {

/// The fixed clock of the policy tests.
time_point test_now();

/// State of the destination's certificate at test_now().
enum class certificate_state { none, valid, expired, not_yet_valid };

/// The function_setting entry for the job's function, as the config states it.
enum class function_entry { absent, all_off, encrypt, sign, encrypt_and_sign };

/// Address-book id, address and certificate file of the scenario's destination.
inline constexpr const char* destination_id = "sales";
inline constexpr const char* destination_address = "sales@example.com";
inline constexpr const char* certificate_file = "certs/sales.pem";

/// One job to one address-book destination. Defaults: standard address,
/// "set individually", Encrypt All off, no function entry, nothing requested,
/// an e-mail entry with encrypt and sign off and no certificate.
struct scenario {
  config::source_function function = config::STANDARD_ADDRESS;
  config::signature_mode mode = config::SET_INDIVIDUALLY;
  bool encrypt_all = false;
  function_entry settings = function_entry::absent;
  bool request_encrypt = false;
  messages::sign_request job_sign = messages::SIGN_REQUEST_UNSPECIFIED;
  messages::sign_request destination_sign = messages::SIGN_REQUEST_UNSPECIFIED;
  config::destination_kind kind = config::EMAIL;
  bool entry_encrypt = false;
  bool entry_sign = false;
  certificate_state certificate = certificate_state::none;

  scenario& with_function(config::source_function value);
  scenario& with_mode(config::signature_mode value);
  scenario& with_encrypt_all();
  scenario& with_settings(function_entry value);
  scenario& with_request_encrypt();
  scenario& with_job_sign(messages::sign_request value);
  scenario& with_destination_sign(messages::sign_request value);
  scenario& to_internet_fax();
  scenario& with_entry_encrypt();
  scenario& with_entry_sign();
  scenario& with_certificate(certificate_state value);
};

config::router_config make_config(const scenario& given);
messages::job_request make_job(const scenario& given);
certificate_index make_certificates(const scenario& given);

/// Plans the scenario's job at test_now() and returns its only destination plan.
messages::destination_plan plan_scenario(const scenario& given);

/// Describes every field of a scenario on one line, for failure messages.
std::string describe(const scenario& given);

/// The fields of a destination plan that the rules decide.
struct expected_plan {
  messages::plan_action action = messages::SEND;
  messages::reason_code reason = messages::REASON_NONE;
  bool encrypt = false;
  bool sign = false;
  bool notify = false;

  /// Returns a copy that expects notify_on_certificate_failure to be set.
  expected_plan with_notice() const;
};

expected_plan sent_plain();
expected_plan sent_signed();
expected_plan sent_encrypted();
expected_plan sent_encrypted_signed();
/// A destination that had to be encrypted but cannot be sent.
expected_plan failed_unsigned(messages::reason_code reason);
expected_plan failed_signed(messages::reason_code reason);
expected_plan rejected(messages::reason_code reason);

std::string describe(const expected_plan& plan);

/// Compares a plan with the expectation. Returns an empty string when they
/// match, else the fields that differ. Also checks that the detail is set
/// exactly on plans other than SEND and that the certificate file is set
/// exactly when the plan encrypts with the destination's certificate.
std::string compare(const expected_plan& expected, const messages::destination_plan& actual);

} // namespace router::policy::testing
