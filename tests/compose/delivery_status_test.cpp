// Non-delivery notices from compose::build_delivery_failure_notice: the Status
// code for each kind of failure, and the RFC 3464 diagnostic type "smtp" for a
// quoted relay reply.
#include "runtime/compose/compose.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

namespace router::testing {
namespace {

const std::string relay_rejects = "relay 127.0.0.1:2525: the relay rejected RCPT TO: 550 5.1.1 mailbox unavailable";
const std::string relay_defers = "relay 127.0.0.1:2525: the relay rejected RCPT TO: 451 4.2.0 mailbox busy";
const std::string relay_down = "relay 127.0.0.1:2525: cannot connect: Connection refused";

class delivery_status_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new scratch_dir();
    write_test_pki(dir_->path());
    config_ = new config::loaded_config(
        config::load_config_text(test_config_text(), dir_->path() / "router.textproto"));
  }

  static void TearDownTestSuite() {
    delete config_;
    delete dir_;
    config_ = nullptr;
    dir_ = nullptr;
  }

  /// Returns the text of the notice for one destination that failed with
  /// `reason` and `detail`.
  static std::string notice_for(messages::reason_code reason, const std::string& detail) {
    messages::delivery_failure_notice_request request;
    request.mutable_job()->set_job_id("rcv-1-abcd-000001");
    request.mutable_job()->set_function(config::FORWARDING);
    request.mutable_job()->set_subject("Invoice 2291");
    request.set_recipient("sender@example.org");
    request.set_arrival_unix(1780000000);
    auto& failed = *request.add_failed();
    failed.set_address("someone@elsewhere.example");
    failed.set_outcome(messages::FAILED);
    failed.set_reason(reason);
    failed.set_detail(detail);

    Botan::AutoSeeded_RNG rng;
    const auto notice = compose::build_delivery_failure_notice(
        *config_, request, std::chrono::system_clock::time_point(std::chrono::seconds(1780003600)), rng);
    EXPECT_EQ(notice.reason(), messages::REASON_NONE) << notice.detail();
    return notice.message();
  }

  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  static scratch_dir* dir_;
  static config::loaded_config* config_;
};

scratch_dir* delivery_status_test::dir_ = nullptr;
config::loaded_config* delivery_status_test::config_ = nullptr;

TEST_F(delivery_status_test, ExpiryReportsDeliveryTimeExpired) {
  const std::string notice = notice_for(messages::DELIVERY_DEFERRED, relay_defers);

  EXPECT_TRUE(contains(notice, "Status: 4.4.7\r\n")) << notice;
  EXPECT_FALSE(contains(notice, "Status: 4.2.0")) << "the relay's own code must not replace 4.4.7:\n" << notice;
  EXPECT_TRUE(contains(notice, "Diagnostic-Code: smtp; 451 4.2.0 mailbox busy\r\n")) << notice;
}

TEST_F(delivery_status_test, ExpiryWithoutReplyUsesOwnType) {
  const std::string notice = notice_for(messages::DELIVERY_DEFERRED, relay_down);

  EXPECT_TRUE(contains(notice, "Status: 4.4.7\r\n")) << notice;
  EXPECT_TRUE(contains(notice, "Diagnostic-Code: X-Secure-Send; DELIVERY_DEFERRED: gave up after the queue "
                               "lifetime; last failure: " +
                                   relay_down + "\r\n"))
      << notice;
  EXPECT_FALSE(contains(notice, "Diagnostic-Code: smtp;")) << notice;
}

TEST_F(delivery_status_test, RejectionQuotesSmtpReply) {
  const std::string notice = notice_for(messages::DELIVERY_FAILED, relay_rejects);

  EXPECT_TRUE(contains(notice, "Status: 5.1.1\r\n")) << notice;
  EXPECT_TRUE(contains(notice, "Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n")) << notice;
  EXPECT_TRUE(contains(notice, "DELIVERY_FAILED: " + relay_rejects)) << "the readable part keeps the detail:\n"
                                                                     << notice;
}

TEST_F(delivery_status_test, RejectionWithoutEnhancedCode) {
  const std::string notice =
      notice_for(messages::DELIVERY_FAILED, "relay 127.0.0.1:2525: the relay rejected DATA: 554 Transaction failed");

  EXPECT_TRUE(contains(notice, "Status: 5.0.0\r\n")) << notice;
  EXPECT_TRUE(contains(notice, "Diagnostic-Code: smtp; 554 Transaction failed\r\n")) << notice;
}

TEST_F(delivery_status_test, CertificateFailureUsesOwnType) {
  const std::string notice = notice_for(messages::NO_CERTIFICATE, "no certificate for someone@elsewhere.example");

  EXPECT_TRUE(contains(notice, "Status: 5.7.5\r\n")) << notice;
  EXPECT_TRUE(contains(notice, "Diagnostic-Code: X-Secure-Send; NO_CERTIFICATE: no certificate for "
                               "someone@elsewhere.example\r\n"))
      << notice;
}

} // namespace
} // namespace router::testing
