// Builders and comparison for the one-destination policy scenarios.
#include "tests/policy/policy_scenario.hpp"

#include "tests/common/test_support.hpp"

#include <sstream>

namespace router::policy::testing {

using router::testing::utc;

time_point test_now() {
  return utc("2026-06-01T00:00:00Z");
}

scenario& scenario::with_function(config::source_function value) {
  function = value;
  return *this;
}

scenario& scenario::with_mode(config::signature_mode value) {
  mode = value;
  return *this;
}

scenario& scenario::with_encrypt_all() {
  encrypt_all = true;
  return *this;
}

scenario& scenario::with_settings(function_entry value) {
  settings = value;
  return *this;
}

scenario& scenario::with_request_encrypt() {
  request_encrypt = true;
  return *this;
}

scenario& scenario::with_job_sign(messages::sign_request value) {
  job_sign = value;
  return *this;
}

scenario& scenario::with_destination_sign(messages::sign_request value) {
  destination_sign = value;
  return *this;
}

scenario& scenario::to_internet_fax() {
  kind = config::INTERNET_FAX;
  return *this;
}

scenario& scenario::with_entry_encrypt() {
  entry_encrypt = true;
  return *this;
}

scenario& scenario::with_entry_sign() {
  entry_sign = true;
  return *this;
}

scenario& scenario::with_certificate(certificate_state value) {
  certificate = value;
  return *this;
}

namespace {

bool settings_encrypt(function_entry entry) {
  return entry == function_entry::encrypt || entry == function_entry::encrypt_and_sign;
}

bool settings_sign(function_entry entry) {
  return entry == function_entry::sign || entry == function_entry::encrypt_and_sign;
}

/// A function other than the job's, given every setting on, so a lookup that
/// picks the wrong entry shows up.
config::source_function other_function(config::source_function function) {
  return function == config::STORE ? config::EMAIL_TX_RESULTS : config::STORE;
}

const char* name_of(certificate_state state) {
  switch (state) {
  case certificate_state::none:
    return "none";
  case certificate_state::valid:
    return "valid";
  case certificate_state::expired:
    return "expired";
  case certificate_state::not_yet_valid:
    return "not_yet_valid";
  }
  return "?";
}

const char* name_of(function_entry entry) {
  switch (entry) {
  case function_entry::absent:
    return "absent";
  case function_entry::all_off:
    return "all_off";
  case function_entry::encrypt:
    return "encrypt";
  case function_entry::sign:
    return "sign";
  case function_entry::encrypt_and_sign:
    return "encrypt_and_sign";
  }
  return "?";
}

const char* on_off(bool value) {
  return value ? "on" : "off";
}

} // namespace

config::router_config make_config(const scenario& given) {
  config::router_config config;
  config.set_encrypt_all(given.encrypt_all);
  config.set_signature_mode(given.mode);

  config::address_entry& entry = *config.add_address_book();
  entry.set_id(destination_id);
  entry.set_name("Sales team");
  entry.set_address(destination_address);
  entry.set_kind(given.kind);
  entry.set_encrypt(given.entry_encrypt);
  entry.set_sign(given.entry_sign);
  if (given.certificate != certificate_state::none)
    entry.set_certificate_file(certificate_file);

  config::function_setting& decoy = *config.add_functions();
  decoy.set_function(other_function(given.function));
  decoy.set_encrypt(true);
  decoy.set_sign(true);

  if (given.settings != function_entry::absent) {
    config::function_setting& setting = *config.add_functions();
    setting.set_function(given.function);
    setting.set_encrypt(settings_encrypt(given.settings));
    setting.set_sign(settings_sign(given.settings));
  }
  return config;
}

messages::job_request make_job(const scenario& given) {
  messages::job_request job;
  job.set_job_id("job-1");
  job.set_function(given.function);
  job.set_request_encrypt(given.request_encrypt);
  job.set_request_sign(given.job_sign);

  messages::destination_ref& ref = *job.add_destinations();
  ref.set_id(destination_id);
  ref.set_sign(given.destination_sign);
  return job;
}

certificate_index make_certificates(const scenario& given) {
  certificate_index certificates;
  switch (given.certificate) {
  case certificate_state::none:
    break;
  case certificate_state::valid:
    certificates[destination_id] = {certificate_file, utc("2025-01-01T00:00:00Z"),
                                    utc("2027-01-01T00:00:00Z")};
    break;
  case certificate_state::expired:
    certificates[destination_id] = {certificate_file, utc("2024-01-01T00:00:00Z"),
                                    utc("2026-05-31T23:59:59Z")};
    break;
  case certificate_state::not_yet_valid:
    certificates[destination_id] = {certificate_file, utc("2026-06-01T00:00:01Z"),
                                    utc("2028-01-01T00:00:00Z")};
    break;
  }
  return certificates;
}

messages::destination_plan plan_scenario(const scenario& given) {
  const messages::job_plan plan =
      plan_job(make_job(given), make_config(given), make_certificates(given), test_now());
  if (plan.destinations_size() != 1)
    return {};
  return plan.destinations(0);
}

std::string describe(const scenario& given) {
  std::ostringstream text;
  text << "function=" << config::source_function_Name(given.function)
       << " mode=" << config::signature_mode_Name(given.mode)
       << " encrypt_all=" << on_off(given.encrypt_all) << " settings=" << name_of(given.settings)
       << " request_encrypt=" << on_off(given.request_encrypt)
       << " job_sign=" << messages::sign_request_Name(given.job_sign)
       << " destination_sign=" << messages::sign_request_Name(given.destination_sign)
       << " kind=" << config::destination_kind_Name(given.kind)
       << " entry_encrypt=" << on_off(given.entry_encrypt)
       << " entry_sign=" << on_off(given.entry_sign)
       << " certificate=" << name_of(given.certificate);
  return text.str();
}

expected_plan expected_plan::with_notice() const {
  expected_plan copy = *this;
  copy.notify = true;
  return copy;
}

expected_plan sent_plain() {
  return {messages::SEND, messages::REASON_NONE, false, false, false};
}

expected_plan sent_signed() {
  return {messages::SEND, messages::REASON_NONE, false, true, false};
}

expected_plan sent_encrypted() {
  return {messages::SEND, messages::REASON_NONE, true, false, false};
}

expected_plan sent_encrypted_signed() {
  return {messages::SEND, messages::REASON_NONE, true, true, false};
}

expected_plan failed_unsigned(messages::reason_code reason) {
  return {messages::FAIL, reason, true, false, false};
}

expected_plan failed_signed(messages::reason_code reason) {
  return {messages::FAIL, reason, true, true, false};
}

expected_plan rejected(messages::reason_code reason) {
  return {messages::REJECT, reason, false, false, false};
}

std::string describe(const expected_plan& plan) {
  std::ostringstream text;
  text << messages::plan_action_Name(plan.action) << " " << messages::reason_code_Name(plan.reason)
       << " encrypt=" << on_off(plan.encrypt) << " sign=" << on_off(plan.sign)
       << " notify=" << on_off(plan.notify);
  return text.str();
}

std::string compare(const expected_plan& expected, const messages::destination_plan& actual) {
  const expected_plan found{actual.action(), actual.reason(), actual.encrypt(), actual.sign(),
                            actual.notify_on_certificate_failure()};
  std::string differences;
  if (describe(found) != describe(expected))
    differences += "expected " + describe(expected) + ", got " + describe(found) + "; ";

  const bool has_detail = !actual.detail().empty();
  if (has_detail != (expected.action != messages::SEND))
    differences += "detail '" + actual.detail() + "' set on the wrong action; ";

  const bool uses_certificate =
      expected.encrypt &&
      (expected.action == messages::SEND || expected.reason == messages::CERTIFICATE_EXPIRED ||
       expected.reason == messages::CERTIFICATE_NOT_YET_VALID);
  const std::string expected_file = uses_certificate ? certificate_file : "";
  if (actual.certificate_file() != expected_file)
    differences += "certificate_file '" + actual.certificate_file() + "', expected '" +
                   expected_file + "'; ";
  return differences;
}

} // namespace router::policy::testing
