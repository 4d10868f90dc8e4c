// Hand-written rows for each send-policy rule and for each place where two
// rules meet. Every row states its expected plan literally.
#include "tests/policy/policy_scenario.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace router::policy::testing {
namespace {

using config::DO_NOT_USE;
using config::INTERNET_FAX;
using config::SET_INDIVIDUALLY;
using config::SIGNATURE_MODE_UNSPECIFIED;
using config::USE_ALWAYS;
using messages::SIGN_REQUEST_OFF;
using messages::SIGN_REQUEST_ON;

constexpr auto valid = certificate_state::valid;
constexpr auto expired = certificate_state::expired;
constexpr auto not_yet_valid = certificate_state::not_yet_valid;

struct rule_row {
  const char* name;
  scenario given;
  expected_plan expected;
};

std::ostream& operator<<(std::ostream& out, const rule_row& row) {
  return out << row.name << ": " << describe(row.given);
}

/// Returns a scenario whose destination has encryption configured: flag on
/// and a valid certificate.
scenario configured() {
  return scenario().with_entry_encrypt().with_certificate(valid);
}

const rule_row per_destination_encryption_rows[] = {
    {"job_request_encrypts_configured_destination", configured().with_request_encrypt(),
     sent_encrypted()},
    {"function_setting_encrypts_configured_destination",
     configured().with_function(config::STORE).with_settings(function_entry::encrypt),
     sent_encrypted()},
    {"flag_off_sends_in_clear_despite_request",
     scenario().with_certificate(valid).with_request_encrypt(), sent_plain()},
    {"flag_on_without_certificate_sends_in_clear",
     scenario().with_entry_encrypt().with_request_encrypt(), sent_plain()},
    {"configured_destination_clear_unless_requested", configured(), sent_plain()},
    {"function_without_entry_has_encrypt_off",
     configured().with_function(config::EMAIL_TX_RESULTS).with_settings(function_entry::absent),
     sent_plain()},
};

const rule_row encrypt_all_rows[] = {
    {"encrypt_all_encrypts_flag_off_destination",
     scenario().with_encrypt_all().with_certificate(valid), sent_encrypted()},
    {"encrypt_all_encrypts_without_request", configured().with_encrypt_all(), sent_encrypted()},
    {"encrypt_all_without_certificate_fails", scenario().with_encrypt_all(),
     failed_unsigned(messages::NO_CERTIFICATE)},
    {"encrypt_all_without_certificate_fails_flag_on",
     scenario().with_encrypt_all().with_entry_encrypt().with_request_encrypt(),
     failed_unsigned(messages::NO_CERTIFICATE)},
};

const rule_row internet_fax_rows[] = {
    {"fax_standard_address_not_encrypted", configured().to_internet_fax().with_request_encrypt(),
     sent_plain()},
    {"fax_store_not_encrypted",
     configured().to_internet_fax().with_function(config::STORE).with_request_encrypt(),
     sent_plain()},
    {"fax_email_tx_results_not_encrypted",
     configured().to_internet_fax().with_function(config::EMAIL_TX_RESULTS).with_request_encrypt(),
     sent_plain()},
    {"fax_folder_report_not_encrypted",
     configured()
         .to_internet_fax()
         .with_function(config::FOLDER_TRANSFER_RESULT_REPORT)
         .with_request_encrypt(),
     sent_plain()},
    {"fax_forwarding_encrypted",
     configured().to_internet_fax().with_function(config::FORWARDING).with_request_encrypt(),
     sent_encrypted().with_notice()},
    {"fax_personal_box_encrypted",
     configured().to_internet_fax().with_function(config::PERSONAL_BOX).with_request_encrypt(),
     sent_encrypted().with_notice()},
    {"fax_smtp_reception_encrypted",
     configured().to_internet_fax().with_function(config::SMTP_RECEPTION).with_request_encrypt(),
     sent_encrypted().with_notice()},
    {"fax_transfer_box_encrypted",
     configured().to_internet_fax().with_function(config::TRANSFER_BOX).with_request_encrypt(),
     sent_encrypted()},
    {"fax_not_signed_on_destination_request",
     scenario().to_internet_fax().with_destination_sign(SIGN_REQUEST_ON), sent_plain()},
    {"fax_not_signed_by_entry_default", scenario().to_internet_fax().with_entry_sign(),
     sent_plain()},
    {"fax_not_signed_by_function_setting",
     scenario().to_internet_fax().with_function(config::FORWARDING).with_settings(
         function_entry::sign),
     sent_plain()},
};

const rule_row use_always_rows[] = {
    {"use_always_signs_without_request", scenario().with_mode(USE_ALWAYS), sent_signed()},
    {"use_always_ignores_job_sign_off",
     scenario().with_mode(USE_ALWAYS).with_job_sign(SIGN_REQUEST_OFF), sent_signed()},
    {"use_always_ignores_destination_sign_off",
     scenario().with_mode(USE_ALWAYS).with_destination_sign(SIGN_REQUEST_OFF), sent_signed()},
    {"use_always_ignores_function_sign_off",
     scenario().with_mode(USE_ALWAYS).with_function(config::STORE).with_settings(
         function_entry::all_off),
     sent_signed()},
    {"use_always_signs_and_encrypts", configured().with_mode(USE_ALWAYS).with_request_encrypt(),
     sent_encrypted_signed()},
};

const rule_row do_not_use_rows[] = {
    {"do_not_use_ignores_entry_default", scenario().with_mode(DO_NOT_USE).with_entry_sign(),
     sent_plain()},
    {"do_not_use_ignores_function_sign_on",
     scenario().with_mode(DO_NOT_USE).with_function(config::STORE).with_settings(
         function_entry::sign),
     sent_plain()},
    {"do_not_use_accepts_job_sign_off",
     scenario().with_mode(DO_NOT_USE).with_job_sign(SIGN_REQUEST_OFF), sent_plain()},
    {"do_not_use_rejects_job_sign_on",
     scenario().with_mode(DO_NOT_USE).with_job_sign(SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
    {"do_not_use_rejects_destination_sign_on",
     scenario().with_mode(DO_NOT_USE).with_destination_sign(SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
    {"do_not_use_rejects_sign_request_of_report",
     scenario().with_mode(DO_NOT_USE).with_function(config::EMAIL_TX_RESULTS).with_job_sign(
         SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
};

const rule_row set_individually_rows[] = {
    {"standard_destination_on_beats_job_off",
     scenario().with_job_sign(SIGN_REQUEST_OFF).with_destination_sign(SIGN_REQUEST_ON),
     sent_signed()},
    {"standard_destination_off_beats_job_on",
     scenario().with_job_sign(SIGN_REQUEST_ON).with_destination_sign(SIGN_REQUEST_OFF),
     sent_plain()},
    {"standard_job_on_when_destination_unset", scenario().with_job_sign(SIGN_REQUEST_ON),
     sent_signed()},
    {"standard_job_off_beats_entry_default",
     scenario().with_job_sign(SIGN_REQUEST_OFF).with_entry_sign(), sent_plain()},
    {"standard_entry_default_on", scenario().with_entry_sign(), sent_signed()},
    {"standard_entry_default_off", scenario(), sent_plain()},
    {"standard_ignores_function_sign_on",
     scenario().with_settings(function_entry::sign).with_job_sign(SIGN_REQUEST_OFF), sent_plain()},
    {"other_function_sign_on_beats_job_off",
     scenario().with_function(config::STORE).with_settings(function_entry::sign).with_job_sign(
         SIGN_REQUEST_OFF),
     sent_signed()},
    {"other_function_sign_off_beats_requests",
     scenario()
         .with_function(config::FORWARDING)
         .with_settings(function_entry::all_off)
         .with_job_sign(SIGN_REQUEST_ON)
         .with_destination_sign(SIGN_REQUEST_ON),
     sent_plain()},
    {"other_function_ignores_entry_default",
     scenario().with_function(config::PERSONAL_BOX).with_entry_sign(), sent_plain()},
    {"report_follows_own_sign_setting",
     scenario().with_function(config::FOLDER_TRANSFER_RESULT_REPORT).with_settings(
         function_entry::sign),
     sent_signed()},
    {"unspecified_mode_acts_as_set_individually",
     scenario().with_mode(SIGNATURE_MODE_UNSPECIFIED).with_destination_sign(SIGN_REQUEST_ON),
     sent_signed()},
    {"unspecified_mode_uses_function_setting",
     scenario()
         .with_mode(SIGNATURE_MODE_UNSPECIFIED)
         .with_function(config::TRANSFER_BOX)
         .with_settings(function_entry::encrypt_and_sign),
     sent_signed()},
};

const rule_row certificate_validity_rows[] = {
    {"expired_certificate_fails",
     scenario().with_entry_encrypt().with_certificate(expired).with_request_encrypt(),
     failed_unsigned(messages::CERTIFICATE_EXPIRED)},
    {"not_yet_valid_certificate_fails",
     scenario().with_entry_encrypt().with_certificate(not_yet_valid).with_request_encrypt(),
     failed_unsigned(messages::CERTIFICATE_NOT_YET_VALID)},
    {"expired_ignored_when_not_encrypting",
     scenario().with_certificate(expired).with_request_encrypt(), sent_plain()},
    {"expired_ignored_when_not_requested", scenario().with_entry_encrypt().with_certificate(expired),
     sent_plain()},
    {"forwarding_expired_notifies",
     scenario()
         .with_function(config::FORWARDING)
         .with_entry_encrypt()
         .with_certificate(expired)
         .with_request_encrypt(),
     failed_unsigned(messages::CERTIFICATE_EXPIRED).with_notice()},
    {"personal_box_expired_notifies",
     scenario()
         .with_function(config::PERSONAL_BOX)
         .with_entry_encrypt()
         .with_certificate(expired)
         .with_settings(function_entry::encrypt),
     failed_unsigned(messages::CERTIFICATE_EXPIRED).with_notice()},
    {"smtp_reception_not_yet_valid_notifies",
     scenario()
         .with_function(config::SMTP_RECEPTION)
         .with_entry_encrypt()
         .with_certificate(not_yet_valid)
         .with_request_encrypt(),
     failed_unsigned(messages::CERTIFICATE_NOT_YET_VALID).with_notice()},
    {"transfer_box_expired_records_only",
     scenario()
         .with_function(config::TRANSFER_BOX)
         .with_entry_encrypt()
         .with_certificate(expired)
         .with_request_encrypt(),
     failed_unsigned(messages::CERTIFICATE_EXPIRED)},
    {"forwarding_valid_send_keeps_notice_flag",
     configured().with_function(config::FORWARDING).with_request_encrypt(),
     sent_encrypted().with_notice()},
    {"transfer_box_valid_send_no_notice_flag",
     configured().with_function(config::TRANSFER_BOX).with_request_encrypt(), sent_encrypted()},
    {"forwarding_in_clear_no_notice_flag",
     scenario().with_function(config::FORWARDING).with_certificate(valid).with_request_encrypt(),
     sent_plain()},
};

const rule_row function_rows[] = {
    {"unspecified_function_rejected",
     configured().with_function(config::SOURCE_FUNCTION_UNSPECIFIED).with_request_encrypt(),
     rejected(messages::INVALID_JOB)},
    {"unspecified_function_beats_signature_refusal",
     scenario()
         .with_function(config::SOURCE_FUNCTION_UNSPECIFIED)
         .with_mode(DO_NOT_USE)
         .with_job_sign(SIGN_REQUEST_ON),
     rejected(messages::INVALID_JOB)},
    {"unspecified_function_beats_encrypt_all",
     scenario().with_function(config::SOURCE_FUNCTION_UNSPECIFIED).with_encrypt_all(),
     rejected(messages::INVALID_JOB)},
    {"out_of_range_function_rejected",
     scenario().with_function(static_cast<config::source_function>(42)),
     rejected(messages::INVALID_JOB)},
};

// Where two rules meet, the stricter one decides.
const rule_row meeting_rows[] = {
    {"use_always_meets_fax_unsigned", scenario().with_mode(USE_ALWAYS).to_internet_fax(),
     sent_plain()},
    {"use_always_meets_fax_job_sign_on",
     scenario().with_mode(USE_ALWAYS).to_internet_fax().with_job_sign(SIGN_REQUEST_ON),
     sent_plain()},
    {"do_not_use_meets_job_sign_rejected",
     scenario().with_mode(DO_NOT_USE).with_job_sign(SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
    {"do_not_use_meets_fax_sign_request_rejected",
     scenario().with_mode(DO_NOT_USE).to_internet_fax().with_destination_sign(SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
    {"do_not_use_rejection_beats_encrypt_all",
     scenario().with_mode(DO_NOT_USE).with_encrypt_all().with_job_sign(SIGN_REQUEST_ON),
     rejected(messages::SIGNATURE_NOT_AVAILABLE)},
    {"encrypt_all_meets_no_certificate_failed",
     scenario().with_encrypt_all().with_mode(USE_ALWAYS),
     failed_signed(messages::NO_CERTIFICATE)},
    {"encrypt_all_meets_flag_off_request_off",
     scenario().with_encrypt_all().with_certificate(valid).with_settings(function_entry::all_off),
     sent_encrypted()},
    {"encrypt_all_meets_fax_store_failed",
     configured().with_encrypt_all().to_internet_fax().with_function(config::STORE),
     failed_unsigned(messages::INTERNET_FAX_NOT_ENCRYPTABLE)},
    {"encrypt_all_meets_fax_standard_failed", configured().with_encrypt_all().to_internet_fax(),
     failed_unsigned(messages::INTERNET_FAX_NOT_ENCRYPTABLE)},
    {"encrypt_all_fax_failure_beats_no_certificate",
     scenario().with_encrypt_all().to_internet_fax().with_function(config::EMAIL_TX_RESULTS),
     failed_unsigned(messages::INTERNET_FAX_NOT_ENCRYPTABLE)},
    {"encrypt_all_meets_fax_forwarding_encrypted",
     scenario().with_encrypt_all().to_internet_fax().with_function(config::FORWARDING)
         .with_certificate(valid),
     sent_encrypted().with_notice()},
    {"encrypt_all_meets_fax_forwarding_no_certificate",
     scenario().with_encrypt_all().to_internet_fax().with_function(config::FORWARDING),
     failed_unsigned(messages::NO_CERTIFICATE)},
    {"encrypt_all_meets_expired_certificate",
     scenario().with_encrypt_all().with_certificate(expired).with_entry_sign(),
     failed_signed(messages::CERTIFICATE_EXPIRED)},
    {"encrypt_all_meets_transfer_box_expired",
     scenario().with_encrypt_all().with_function(config::TRANSFER_BOX).with_certificate(expired),
     failed_unsigned(messages::CERTIFICATE_EXPIRED)},
    {"encrypt_all_meets_smtp_reception_expired",
     scenario().with_encrypt_all().with_function(config::SMTP_RECEPTION).with_certificate(expired),
     failed_unsigned(messages::CERTIFICATE_EXPIRED).with_notice()},
    {"use_always_fax_encrypt_all_personal_box",
     scenario()
         .with_mode(USE_ALWAYS)
         .with_encrypt_all()
         .to_internet_fax()
         .with_function(config::PERSONAL_BOX)
         .with_certificate(valid),
     sent_encrypted().with_notice()},
    {"fax_standard_request_encrypt_and_sign",
     configured()
         .to_internet_fax()
         .with_request_encrypt()
         .with_mode(SET_INDIVIDUALLY)
         .with_job_sign(SIGN_REQUEST_ON),
     sent_plain()},
    {"use_always_meets_expired_certificate",
     configured().with_mode(USE_ALWAYS).with_certificate(expired).with_request_encrypt(),
     failed_signed(messages::CERTIFICATE_EXPIRED)},
    {"fax_store_expired_certificate_in_clear",
     scenario()
         .to_internet_fax()
         .with_function(config::STORE)
         .with_entry_encrypt()
         .with_certificate(expired)
         .with_request_encrypt(),
     sent_plain()},
};

class policy_rule_test : public ::testing::TestWithParam<rule_row> {};

TEST_P(policy_rule_test, plans_expected_destination) {
  const rule_row& row = GetParam();

  const messages::job_plan plan =
      plan_job(make_job(row.given), make_config(row.given), make_certificates(row.given),
               test_now());

  ASSERT_EQ(plan.destinations_size(), 1);
  EXPECT_EQ(compare(row.expected, plan.destinations(0)), "") << describe(row.given);
}

std::string row_name(const ::testing::TestParamInfo<rule_row>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(per_destination_encryption, policy_rule_test,
                         ::testing::ValuesIn(per_destination_encryption_rows), row_name);
INSTANTIATE_TEST_SUITE_P(encrypt_all, policy_rule_test, ::testing::ValuesIn(encrypt_all_rows),
                         row_name);
INSTANTIATE_TEST_SUITE_P(internet_fax, policy_rule_test, ::testing::ValuesIn(internet_fax_rows),
                         row_name);
INSTANTIATE_TEST_SUITE_P(use_always, policy_rule_test, ::testing::ValuesIn(use_always_rows),
                         row_name);
INSTANTIATE_TEST_SUITE_P(do_not_use, policy_rule_test, ::testing::ValuesIn(do_not_use_rows),
                         row_name);
INSTANTIATE_TEST_SUITE_P(set_individually, policy_rule_test,
                         ::testing::ValuesIn(set_individually_rows), row_name);
INSTANTIATE_TEST_SUITE_P(certificate_validity, policy_rule_test,
                         ::testing::ValuesIn(certificate_validity_rows), row_name);
INSTANTIATE_TEST_SUITE_P(source_function, policy_rule_test, ::testing::ValuesIn(function_rows),
                         row_name);
INSTANTIATE_TEST_SUITE_P(rules_meeting, policy_rule_test, ::testing::ValuesIn(meeting_rows),
                         row_name);

} // namespace
} // namespace router::policy::testing
