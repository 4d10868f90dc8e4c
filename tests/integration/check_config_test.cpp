// `smime-router check-config` as a user runs it: certificate health at a
// fixed time, warnings for expiring certificates, errors for unusable ones.
#include "tests/common/test_pki.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

class check_config_test : public ::testing::Test {
 protected:
  void SetUp() override { write_test_pki(dir_.path()); }

  /// Runs check-config on config text at the reference time (00:00, 2026-06-01).
  command_result check(const std::string& config_text, const std::string& extra_arguments = "") {
    write_file(dir_ / "router.textproto", config_text);
    const std::string binary = binary_path("runtime/cli/smime-router").string();
    return run_command(shell_quote(binary) + " check-config --config " +
                       shell_quote((dir_ / "router.textproto").string()) + " --at " +
                       std::to_string(unix_seconds(reference_time())) + " " + extra_arguments);
  }

  /// Returns the config text with the address-book entries reduced to `entries`.
  static std::string config_with(const std::string& entries) {
    std::string text = test_config_text(entries);
    for (const std::string id : {"alice", "bob", "carol", "dave", "erin", "fax"}) {
      const auto start = text.find("address_book { id: \"" + id + "\"");
      text.erase(start, text.find('\n', start) - start + 1);
    }
    return text;
  }

  scratch_dir dir_;
};

TEST_F(check_config_test, ListsEveryProblemWithReason) {
  const auto result = check(test_config_text(
      "address_book { id: \"alias\" address: \"alice@other.example\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/alice.cert.pem\" }\n"));

  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("address_book 'carol'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("error: address_book 'carol': the certificate has expired"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("error: address_book 'alias': the certificate is for alice@example.com"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("warning: address_book 'erin': expires in 0 days"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("error: address_book 'alice'"), std::string::npos) << result.output;
}

TEST_F(check_config_test, ExpiringOnlyWarnsAndPasses) {
  const auto result = check(config_with(
      "address_book { id: \"erin2\" address: \"erin@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/erin.cert.pem\" }\n"));

  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("warning: address_book 'erin2': expires in 0 days (within 30)"), std::string::npos)
      << result.output;
}

TEST_F(check_config_test, WarningWindowIsConfigurable) {
  const std::string text = config_with(
      "address_book { id: \"alice\" address: \"alice@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/alice.cert.pem\" }\n");

  const auto default_window = check(text);
  const auto long_window = check(text, "--warn-days 3650");

  EXPECT_EQ(default_window.exit_code, 0) << default_window.output;
  EXPECT_EQ(default_window.output.find("warning:"), std::string::npos) << default_window.output;
  EXPECT_EQ(long_window.exit_code, 0) << long_window.output;
  EXPECT_NE(long_window.output.find("warning: address_book 'alice': expires in"), std::string::npos)
      << long_window.output;
}

TEST_F(check_config_test, InvalidWarnDaysIsUsageError) {
  const auto result = check(test_config_text(), "--warn-days soon");

  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("invalid --warn-days 'soon'"), std::string::npos) << result.output;
}

TEST_F(check_config_test, DeviceCertificateIsListed) {
  const auto result = check(test_config_text());

  EXPECT_NE(result.output.find("device"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("router@device.example.com"), std::string::npos) << result.output;
}

} // namespace
} // namespace router::testing
