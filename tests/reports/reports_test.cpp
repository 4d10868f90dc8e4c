// Result reports list every destination with its crypto outcome.
#include "runtime/reports/reports.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

messages::job_result sample_result() {
  messages::job_result result;
  result.set_job_id("job-7");

  auto* sent = result.add_destinations();
  sent->set_index(0);
  sent->set_destination_id("alice");
  sent->set_address("alice@example.com");
  sent->set_outcome(messages::SENT_ENCRYPTED_SIGNED);
  sent->set_algorithms("signed with RSA sha-256, then encrypted with AES-256-CBC and RSA PKCS#1 v1.5");
  sent->set_certificate_fingerprint("a1b2c3d4");
  sent->set_completed_unix(1780272000);  // 2026-06-01T00:00:00Z

  auto* failed = result.add_destinations();
  failed->set_index(1);
  failed->set_destination_id("carol");
  failed->set_address("carol@example.com");
  failed->set_outcome(messages::FAILED);
  failed->set_reason(messages::CERTIFICATE_EXPIRED);
  failed->set_detail("the certificate has expired");
  failed->set_certificate_fingerprint("ffee");
  failed->set_completed_unix(1780272001);

  auto* plain = result.add_destinations();
  plain->set_index(2);
  plain->set_address("dave@example.com");
  plain->set_outcome(messages::SENT_PLAIN);
  plain->set_completed_unix(1780272002);
  return result;
}

TEST(reports_test, ListsEveryDestination) {
  const std::string text = reports::format_result_report("Email TX Results", sample_result());

  EXPECT_EQ(text.rfind("Email TX Results\n", 0), 0u) << text;
  EXPECT_NE(text.find("Job: job-7"), std::string::npos) << text;
  EXPECT_NE(text.find("Destination 1: alice@example.com (alice)"), std::string::npos) << text;
  EXPECT_NE(text.find("Destination 2: carol@example.com (carol)"), std::string::npos) << text;
  EXPECT_NE(text.find("Destination 3: dave@example.com\n"), std::string::npos) << text;
}

TEST(reports_test, ShowsCryptoOutcome) {
  const std::string text = reports::format_result_report("Email TX Results", sample_result());

  EXPECT_NE(text.find("Result:      sent, encrypted and signed"), std::string::npos) << text;
  EXPECT_NE(text.find("Algorithms:  signed with RSA sha-256, then encrypted with AES-256-CBC"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Certificate: SHA-256 a1:b2:c3:d4"), std::string::npos) << text;
  EXPECT_NE(text.find("Time:        2026-06-01 00:00:00 UTC"), std::string::npos) << text;
  EXPECT_NE(text.find("Result:      sent, neither encrypted nor signed"), std::string::npos) << text;
}

TEST(reports_test, ShowsFailureReason) {
  const std::string text = reports::format_result_report("Folder Transfer Result Report", sample_result());

  EXPECT_NE(text.find("Result:      failed"), std::string::npos) << text;
  EXPECT_NE(text.find("Reason:      CERTIFICATE_EXPIRED: the certificate has expired"), std::string::npos) << text;
}

TEST(reports_test, MentionsOriginatorNotice) {
  auto result = sample_result();
  result.set_notification_sent(true);

  EXPECT_NE(reports::format_result_report("Email TX Results", result).find("originator was sent a notice"),
            std::string::npos);
}

TEST(reports_test, DescribesEveryOutcome) {
  EXPECT_EQ(reports::describe_outcome(messages::SENT_ENCRYPTED), "sent, encrypted");
  EXPECT_EQ(reports::describe_outcome(messages::SENT_SIGNED), "sent, signed");
  EXPECT_EQ(reports::describe_outcome(messages::REJECTED), "rejected");
  EXPECT_EQ(reports::describe_outcome(messages::OUTCOME_UNSPECIFIED), "unknown");
}

} // namespace
} // namespace router::testing
