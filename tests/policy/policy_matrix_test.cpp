// Checks the send policy on the full cross product of its inputs for one
// address-book destination against a small oracle written from the rules.
//
// One test per source function walks every combination of destination kind,
// encryption request, job and destination signature request, signature mode,
// Encrypt All, function setting, address-book flags and certificate state.
#include "tests/policy/policy_scenario.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace router::policy::testing {
namespace {

constexpr int max_reported_mismatches = 10;

bool is_one_of(config::source_function function, std::initializer_list<config::source_function> set) {
  for (const auto member : set) {
    if (member == function)
      return true;
  }
  return false;
}

/// Returns the first explicit signature choice, or the fallback.
bool first_choice(messages::sign_request first, messages::sign_request second, bool fallback) {
  for (const auto request : {first, second}) {
    if (request == messages::SIGN_REQUEST_ON)
      return true;
    if (request == messages::SIGN_REQUEST_OFF)
      return false;
  }
  return fallback;
}

/// Computes the expected plan from the rules, stated as plainly as possible
/// and independent of the implementation's helpers.
expected_plan oracle(const scenario& s) {
  if (s.function == config::SOURCE_FUNCTION_UNSPECIFIED)
    return rejected(messages::INVALID_JOB);

  const bool requests_signature =
      s.job_sign == messages::SIGN_REQUEST_ON || s.destination_sign == messages::SIGN_REQUEST_ON;
  if (s.mode == config::DO_NOT_USE && requests_signature)
    return rejected(messages::SIGNATURE_NOT_AVAILABLE);

  const bool fax = s.kind == config::INTERNET_FAX;
  const bool fax_encryptable =
      is_one_of(s.function, {config::FORWARDING, config::PERSONAL_BOX, config::SMTP_RECEPTION,
                             config::TRANSFER_BOX});
  const bool notifying =
      is_one_of(s.function, {config::FORWARDING, config::PERSONAL_BOX, config::SMTP_RECEPTION});
  const bool has_certificate = s.certificate != certificate_state::none;
  const bool function_encrypt =
      s.settings == function_entry::encrypt || s.settings == function_entry::encrypt_and_sign;
  const bool function_sign =
      s.settings == function_entry::sign || s.settings == function_entry::encrypt_and_sign;

  expected_plan result = sent_plain();
  if (fax)
    result.sign = false;
  else if (s.mode == config::USE_ALWAYS)
    result.sign = true;
  else if (s.mode == config::DO_NOT_USE)
    result.sign = false;
  else if (s.function == config::STANDARD_ADDRESS)
    result.sign = first_choice(s.destination_sign, s.job_sign, s.entry_sign);
  else
    result.sign = function_sign;

  if (s.encrypt_all) {
    result.encrypt = true;
    if (fax && !fax_encryptable) {
      result.action = messages::FAIL;
      result.reason = messages::INTERNET_FAX_NOT_ENCRYPTABLE;
      return result;
    }
    if (!has_certificate) {
      result.action = messages::FAIL;
      result.reason = messages::NO_CERTIFICATE;
      return result;
    }
  } else {
    const bool requested = s.request_encrypt || function_encrypt;
    result.encrypt = requested && (!fax || fax_encryptable) && s.entry_encrypt && has_certificate;
  }
  if (!result.encrypt)
    return result;

  result.notify = notifying;
  if (s.certificate == certificate_state::expired) {
    result.action = messages::FAIL;
    result.reason = messages::CERTIFICATE_EXPIRED;
  }
  if (s.certificate == certificate_state::not_yet_valid) {
    result.action = messages::FAIL;
    result.reason = messages::CERTIFICATE_NOT_YET_VALID;
  }
  return result;
}

/// Lists every scenario for one source function.
std::vector<scenario> cross_product(config::source_function function) {
  const config::destination_kind kinds[] = {config::EMAIL, config::INTERNET_FAX};
  const messages::sign_request requests[] = {messages::SIGN_REQUEST_UNSPECIFIED,
                                             messages::SIGN_REQUEST_ON, messages::SIGN_REQUEST_OFF};
  const config::signature_mode modes[] = {config::SIGNATURE_MODE_UNSPECIFIED,
                                          config::SET_INDIVIDUALLY, config::DO_NOT_USE,
                                          config::USE_ALWAYS};
  const function_entry entries[] = {function_entry::absent, function_entry::all_off,
                                    function_entry::encrypt, function_entry::sign,
                                    function_entry::encrypt_and_sign};
  const certificate_state certificates[] = {certificate_state::none, certificate_state::valid,
                                            certificate_state::expired,
                                            certificate_state::not_yet_valid};
  const bool flags[] = {false, true};

  std::vector<scenario> all;
  for (const auto kind : kinds)
    for (const bool request_encrypt : flags)
      for (const auto job_sign : requests)
        for (const auto destination_sign : requests)
          for (const auto mode : modes)
            for (const bool encrypt_all : flags)
              for (const auto settings : entries)
                for (const bool entry_encrypt : flags)
                  for (const bool entry_sign : flags)
                    for (const auto certificate : certificates) {
                      scenario given;
                      given.function = function;
                      given.kind = kind;
                      given.request_encrypt = request_encrypt;
                      given.job_sign = job_sign;
                      given.destination_sign = destination_sign;
                      given.mode = mode;
                      given.encrypt_all = encrypt_all;
                      given.settings = settings;
                      given.entry_encrypt = entry_encrypt;
                      given.entry_sign = entry_sign;
                      given.certificate = certificate;
                      all.push_back(given);
                    }
  return all;
}

class policy_matrix_test : public ::testing::TestWithParam<config::source_function> {};

TEST_P(policy_matrix_test, matches_oracle_on_every_combination) {
  const std::vector<scenario> all = cross_product(GetParam());
  ASSERT_EQ(all.size(), 2u * 2 * 3 * 3 * 4 * 2 * 5 * 2 * 2 * 4);

  int mismatches = 0;
  for (const scenario& given : all) {
    const std::string differences = compare(oracle(given), plan_scenario(given));
    if (differences.empty())
      continue;

    ++mismatches;
    if (mismatches <= max_reported_mismatches)
      ADD_FAILURE() << describe(given) << ": " << differences;
  }
  EXPECT_EQ(mismatches, 0) << "combinations that differ from the oracle";
}

INSTANTIATE_TEST_SUITE_P(
    every_function, policy_matrix_test,
    ::testing::Values(config::SOURCE_FUNCTION_UNSPECIFIED, config::STANDARD_ADDRESS,
                      config::EMAIL_TX_RESULTS, config::FOLDER_TRANSFER_RESULT_REPORT,
                      config::STORE, config::PERSONAL_BOX, config::TRANSFER_BOX,
                      config::FORWARDING, config::SMTP_RECEPTION),
    [](const ::testing::TestParamInfo<config::source_function>& info) {
      return config::source_function_Name(info.param);
    });

} // namespace
} // namespace router::policy::testing
