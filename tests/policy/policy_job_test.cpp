// Send-policy tests on whole jobs: destination order and lookup, bare
// addresses, job-wide rejections, certificate validity limits and the
// readable details.
#include "runtime/policy/policy.hpp"

#include "tests/common/test_support.hpp"
#include "tests/policy/policy_scenario.hpp"

#include <gtest/gtest.h>

namespace router::policy::testing {
namespace {

using router::testing::utc;

class policy_job_test : public ::testing::Test {
 protected:
  policy_job_test() {
    job_.set_job_id("job-7");
    job_.set_function(config::STANDARD_ADDRESS);
    config_.set_signature_mode(config::SET_INDIVIDUALLY);
  }

  /// Adds an address-book entry. With `certified`, it also registers a valid certificate.
  void add_entry(const std::string& id, config::destination_kind kind, bool encrypt,
                 bool certified) {
    config::address_entry& entry = *config_.add_address_book();
    entry.set_id(id);
    entry.set_name("Entry " + id);
    entry.set_address(id + "@example.com");
    entry.set_kind(kind);
    entry.set_encrypt(encrypt);
    if (!certified)
      return;

    entry.set_certificate_file("certs/" + id + ".pem");
    certificates_[id] = {"/etc/router/certs/" + id + ".pem", utc("2025-01-01T00:00:00Z"),
                         utc("2027-01-01T00:00:00Z")};
  }

  messages::destination_ref& add_id(const std::string& id) {
    messages::destination_ref& ref = *job_.add_destinations();
    ref.set_id(id);
    return ref;
  }

  messages::destination_ref& add_address(const std::string& address) {
    messages::destination_ref& ref = *job_.add_destinations();
    ref.set_address(address);
    return ref;
  }

  messages::job_plan plan() const { return plan_job(job_, config_, certificates_, test_now()); }

  messages::job_request job_;
  config::router_config config_;
  certificate_index certificates_;
};

TEST_F(policy_job_test, keeps_destination_order) {
  add_entry("alpha", config::EMAIL, true, true);
  add_entry("fax", config::INTERNET_FAX, true, true);
  add_entry("plain", config::EMAIL, false, false);
  add_id("plain");
  add_address("walk-in@example.org");
  add_id("alpha");
  add_id("missing");
  add_id("fax");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 5);
  const char* const ids[] = {"plain", "", "alpha", "missing", "fax"};
  const char* const addresses[] = {"plain@example.com", "walk-in@example.org", "alpha@example.com",
                                   "", "fax@example.com"};
  const bool encrypted[] = {false, false, true, false, false};
  for (int i = 0; i < result.destinations_size(); ++i) {
    SCOPED_TRACE("destination " + std::to_string(i));
    const messages::destination_plan& destination = result.destinations(i);
    EXPECT_EQ(destination.index(), static_cast<uint32_t>(i));
    EXPECT_EQ(destination.destination_id(), ids[i]);
    EXPECT_EQ(destination.address(), addresses[i]);
    EXPECT_EQ(destination.encrypt(), encrypted[i]);
  }
  EXPECT_EQ(result.destinations(3).action(), messages::REJECT);
  EXPECT_EQ(result.destinations(4).kind(), config::INTERNET_FAX);
}

TEST_F(policy_job_test, copies_job_id) {
  add_entry("alpha", config::EMAIL, false, false);
  add_id("alpha");

  EXPECT_EQ(plan().job_id(), "job-7");
}

TEST_F(policy_job_test, zero_destinations_give_empty_plan) {
  const messages::job_plan result = plan();

  EXPECT_EQ(result.job_id(), "job-7");
  EXPECT_EQ(result.destinations_size(), 0);
}

TEST_F(policy_job_test, unknown_id_rejected_alone) {
  add_entry("alpha", config::EMAIL, false, false);
  add_id("nobody");
  add_id("alpha");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 2);
  const messages::destination_plan& unknown = result.destinations(0);
  EXPECT_EQ(unknown.action(), messages::REJECT);
  EXPECT_EQ(unknown.reason(), messages::UNKNOWN_DESTINATION);
  EXPECT_EQ(unknown.destination_id(), "nobody");
  EXPECT_NE(unknown.detail().find("'nobody'"), std::string::npos) << unknown.detail();
  EXPECT_EQ(result.destinations(1).action(), messages::SEND);
}

TEST_F(policy_job_test, bare_address_is_clear_email) {
  add_address("walk-in@example.org");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  const messages::destination_plan& bare = result.destinations(0);
  EXPECT_EQ(bare.action(), messages::SEND);
  EXPECT_EQ(bare.destination_id(), "");
  EXPECT_EQ(bare.address(), "walk-in@example.org");
  EXPECT_EQ(bare.kind(), config::EMAIL);
  EXPECT_FALSE(bare.encrypt());
  EXPECT_FALSE(bare.sign());
  EXPECT_EQ(bare.certificate_file(), "");
  EXPECT_EQ(bare.detail(), "");
}

TEST_F(policy_job_test, bare_address_signed_on_request) {
  add_address("walk-in@example.org").set_sign(messages::SIGN_REQUEST_ON);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  EXPECT_EQ(result.destinations(0).action(), messages::SEND);
  EXPECT_TRUE(result.destinations(0).sign());
}

TEST_F(policy_job_test, bare_address_fails_under_encrypt_all) {
  config_.set_encrypt_all(true);
  add_address("walk-in@example.org");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  const messages::destination_plan& bare = result.destinations(0);
  EXPECT_EQ(bare.action(), messages::FAIL);
  EXPECT_EQ(bare.reason(), messages::NO_CERTIFICATE);
  EXPECT_EQ(bare.detail(),
            "destination 'walk-in@example.org' has no certificate registered and Encrypt All is "
            "on; register its certificate or turn Encrypt All off");
}

TEST_F(policy_job_test, empty_reference_is_invalid) {
  add_entry("alpha", config::EMAIL, false, false);
  add_id("alpha");
  job_.add_destinations();

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 2);
  const messages::destination_plan& empty = result.destinations(1);
  EXPECT_EQ(empty.action(), messages::REJECT);
  EXPECT_EQ(empty.reason(), messages::INVALID_JOB);
  EXPECT_NE(empty.detail().find("index 1"), std::string::npos) << empty.detail();
  EXPECT_EQ(result.destinations(0).action(), messages::SEND);
}

TEST_F(policy_job_test, id_with_other_address_rejected) {
  add_entry("alpha", config::EMAIL, true, true);
  add_id("alpha").set_address("someone-else@example.org");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  const messages::destination_plan& conflict = result.destinations(0);
  EXPECT_EQ(conflict.action(), messages::REJECT);
  EXPECT_EQ(conflict.reason(), messages::INVALID_JOB);
  EXPECT_FALSE(conflict.encrypt());
  EXPECT_NE(conflict.detail().find("someone-else@example.org"), std::string::npos)
      << conflict.detail();
}

TEST_F(policy_job_test, id_with_own_address_accepted) {
  add_entry("alpha", config::EMAIL, true, true);
  add_id("alpha").set_address("alpha@example.com");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  EXPECT_EQ(result.destinations(0).action(), messages::SEND);
  EXPECT_TRUE(result.destinations(0).encrypt());
}

TEST_F(policy_job_test, encrypts_configured_destinations_only) {
  add_entry("both", config::EMAIL, true, true);
  add_entry("flag-only", config::EMAIL, true, false);
  add_entry("certificate-only", config::EMAIL, false, true);
  add_id("both");
  add_id("flag-only");
  add_id("certificate-only");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 3);
  for (const auto& destination : result.destinations()) {
    SCOPED_TRACE(destination.destination_id());
    EXPECT_EQ(destination.action(), messages::SEND);
  }
  EXPECT_TRUE(result.destinations(0).encrypt());
  EXPECT_EQ(result.destinations(0).certificate_file(), "/etc/router/certs/both.pem");
  EXPECT_FALSE(result.destinations(1).encrypt());
  EXPECT_FALSE(result.destinations(2).encrypt());
  EXPECT_EQ(result.destinations(2).certificate_file(), "");
}

TEST_F(policy_job_test, encrypt_all_fails_uncertified_only) {
  config_.set_encrypt_all(true);
  add_entry("certified", config::EMAIL, false, true);
  add_entry("uncertified", config::EMAIL, true, false);
  add_id("certified");
  add_id("uncertified");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 2);
  EXPECT_EQ(result.destinations(0).action(), messages::SEND);
  EXPECT_TRUE(result.destinations(0).encrypt());
  EXPECT_EQ(result.destinations(1).action(), messages::FAIL);
  EXPECT_EQ(result.destinations(1).reason(), messages::NO_CERTIFICATE);
  EXPECT_EQ(result.destinations(1).detail(),
            "destination 'uncertified' has no certificate registered and Encrypt All is on; "
            "register its certificate or turn Encrypt All off");
}

TEST_F(policy_job_test, do_not_use_rejects_whole_job) {
  config_.set_signature_mode(config::DO_NOT_USE);
  add_entry("alpha", config::EMAIL, false, false);
  add_entry("beta", config::EMAIL, false, false);
  add_id("alpha");
  add_id("beta").set_sign(messages::SIGN_REQUEST_ON);
  add_address("walk-in@example.org");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 3);
  for (const auto& destination : result.destinations()) {
    SCOPED_TRACE("destination " + std::to_string(destination.index()));
    EXPECT_EQ(destination.action(), messages::REJECT);
    EXPECT_EQ(destination.reason(), messages::SIGNATURE_NOT_AVAILABLE);
    EXPECT_NE(destination.detail().find("do not use"), std::string::npos) << destination.detail();
  }
}

TEST_F(policy_job_test, unspecified_function_rejects_whole_job) {
  job_.set_function(config::SOURCE_FUNCTION_UNSPECIFIED);
  add_entry("alpha", config::EMAIL, false, false);
  add_id("alpha");
  add_address("walk-in@example.org");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 2);
  for (const auto& destination : result.destinations()) {
    SCOPED_TRACE("destination " + std::to_string(destination.index()));
    EXPECT_EQ(destination.action(), messages::REJECT);
    EXPECT_EQ(destination.reason(), messages::INVALID_JOB);
    EXPECT_FALSE(destination.detail().empty());
  }
}

TEST_F(policy_job_test, use_always_skips_fax_only) {
  config_.set_signature_mode(config::USE_ALWAYS);
  add_entry("mail", config::EMAIL, false, false);
  add_entry("fax", config::INTERNET_FAX, false, false);
  add_id("mail");
  add_id("fax");
  job_.set_request_sign(messages::SIGN_REQUEST_OFF);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 2);
  EXPECT_TRUE(result.destinations(0).sign());
  EXPECT_FALSE(result.destinations(1).sign());
}

TEST_F(policy_job_test, expired_detail_names_date) {
  add_entry("alpha", config::EMAIL, true, true);
  certificates_["alpha"].not_after = utc("2026-05-31T23:59:59Z");
  add_id("alpha");
  job_.set_request_encrypt(true);

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  EXPECT_EQ(result.destinations(0).reason(), messages::CERTIFICATE_EXPIRED);
  EXPECT_EQ(result.destinations(0).detail(),
            "the certificate of destination 'alpha' expired at 2026-05-31T23:59:59Z; register a "
            "renewed certificate");
}

TEST_F(policy_job_test, fax_not_encryptable_detail_names_function) {
  config_.set_encrypt_all(true);
  job_.set_function(config::STORE);
  add_entry("fax", config::INTERNET_FAX, true, true);
  add_id("fax");

  const messages::job_plan result = plan();

  ASSERT_EQ(result.destinations_size(), 1);
  EXPECT_EQ(result.destinations(0).reason(), messages::INTERNET_FAX_NOT_ENCRYPTABLE);
  EXPECT_NE(result.destinations(0).detail().find("Store function"), std::string::npos)
      << result.destinations(0).detail();
  EXPECT_NE(result.destinations(0).detail().find("turn Encrypt All off"), std::string::npos)
      << result.destinations(0).detail();
}

/// Plans one encrypted destination whose certificate has the given validity period.
messages::destination_plan plan_with_validity(time_point not_before, time_point not_after) {
  const scenario given = scenario().with_entry_encrypt().with_request_encrypt().with_certificate(
      certificate_state::valid);
  certificate_index certificates = make_certificates(given);
  certificates[destination_id].not_before = not_before;
  certificates[destination_id].not_after = not_after;

  const messages::job_plan plan =
      plan_job(make_job(given), make_config(given), certificates, test_now());
  return plan.destinations_size() == 1 ? plan.destinations(0) : messages::destination_plan{};
}

TEST(policy_validity_test, valid_at_not_after) {
  const messages::destination_plan plan =
      plan_with_validity(utc("2025-01-01T00:00:00Z"), test_now());

  EXPECT_EQ(plan.action(), messages::SEND);
  EXPECT_TRUE(plan.encrypt());
}

TEST(policy_validity_test, valid_at_not_before) {
  const messages::destination_plan plan =
      plan_with_validity(test_now(), utc("2027-01-01T00:00:00Z"));

  EXPECT_EQ(plan.action(), messages::SEND);
  EXPECT_TRUE(plan.encrypt());
}

TEST(policy_validity_test, expired_one_second_after) {
  const messages::destination_plan plan =
      plan_with_validity(utc("2025-01-01T00:00:00Z"), test_now() - std::chrono::seconds(1));

  EXPECT_EQ(plan.action(), messages::FAIL);
  EXPECT_EQ(plan.reason(), messages::CERTIFICATE_EXPIRED);
}

TEST(policy_validity_test, not_yet_valid_one_second_before) {
  const messages::destination_plan plan =
      plan_with_validity(test_now() + std::chrono::seconds(1), utc("2027-01-01T00:00:00Z"));

  EXPECT_EQ(plan.action(), messages::FAIL);
  EXPECT_EQ(plan.reason(), messages::CERTIFICATE_NOT_YET_VALID);
  EXPECT_NE(plan.detail().find("2026-06-01T00:00:01Z"), std::string::npos) << plan.detail();
}

struct function_row {
  config::source_function function;
  bool may_encrypt_fax;
  bool notifies;
};

TEST(policy_function_table_test, lists_fax_encryption_and_notices) {
  const function_row rows[] = {
      {config::SOURCE_FUNCTION_UNSPECIFIED, false, false},
      {config::STANDARD_ADDRESS, false, false},
      {config::EMAIL_TX_RESULTS, false, false},
      {config::FOLDER_TRANSFER_RESULT_REPORT, false, false},
      {config::STORE, false, false},
      {config::PERSONAL_BOX, true, true},
      {config::TRANSFER_BOX, true, false},
      {config::FORWARDING, true, true},
      {config::SMTP_RECEPTION, true, true},
  };
  for (const function_row& row : rows) {
    SCOPED_TRACE(config::source_function_Name(row.function));
    EXPECT_EQ(may_encrypt_internet_fax(row.function), row.may_encrypt_fax);
    EXPECT_EQ(notifies_on_certificate_failure(row.function), row.notifies);
  }
}

} // namespace
} // namespace router::policy::testing
