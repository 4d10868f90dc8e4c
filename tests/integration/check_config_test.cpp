// `smime-router check-config` as a user runs it: certificate health at a
// fixed time, warnings for expiring certificates, errors for unusable ones.
#include "runtime/certs/pki_builder.hpp"

#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>
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

  /// Writes pki/NAME.cert.pem and pki/NAME.key.pem: a TLS server certificate
  /// for localhost, valid from `not_before` to `not_after`.
  void write_tls_certificate(const std::string& name, const std::string& not_before, const std::string& not_after) {
    Botan::AutoSeeded_RNG rng;
    certs::pki_builder pki(rng, "Router Test TLS", {utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")});
    const auto identity = pki.issue_tls_server(pki.root(), "localhost", {utc(not_before), utc(not_after)});
    write_file(dir_ / "pki" / (name + ".cert.pem"), certs::to_pem(identity.certificate));
    write_file(dir_ / "pki" / (name + ".key.pem"), certs::to_pem(*identity.private_key));
  }

  /// Returns the test config without address-book entries, with SMTP
  /// reception on and pki/NAME as its STARTTLS identity.
  static std::string config_with_tls(const std::string& name) {
    return config_with(R"(
reception {
  listen: "127.0.0.1:0"
  spool_directory: "spool"
  tls { certificate_file: "pki/)" + name + R"(.cert.pem" private_key_file: "pki/)" + name + R"(.key.pem" }
  routes { address: "box@mfp.example" function: PERSONAL_BOX destinations: "bob@example.com" }
}
)");
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

TEST_F(check_config_test, ReceptionTlsCertificateIsListed) {
  write_tls_certificate("tls", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
  const auto result = check(config_with_tls("tls"));

  EXPECT_NE(result.output.find("reception.tls              TLS server"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("pki/tls.cert.pem"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("reception.tls:"), std::string::npos) << result.output;
}

TEST_F(check_config_test, ReceptionTlsCertificateStates) {
  const struct {
    std::string name;
    std::string not_before;
    std::string not_after;
    int exit_code;
    std::string line;
  } cases[] = {
      {"expired", "2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z", 1,
       "error: reception.tls: the certificate has expired"},
      {"future", "2026-07-01T00:00:00Z", "2027-07-01T00:00:00Z", 1,
       "error: reception.tls: the certificate is not yet valid"},
      {"expiring", "2025-01-01T00:00:00Z", "2026-06-11T00:00:00Z", 0,
       "warning: reception.tls: expires in 10 days (within 30)"},
  };
  for (const auto& tls : cases) {
    SCOPED_TRACE(tls.name);
    write_tls_certificate(tls.name, tls.not_before, tls.not_after);

    const auto result = check(config_with_tls(tls.name));

    EXPECT_EQ(result.exit_code, tls.exit_code) << result.output;
    EXPECT_NE(result.output.find(tls.line), std::string::npos) << result.output;
  }
}

TEST_F(check_config_test, ReceptionTlsNeedsServerAuth) {
  // The device certificate is for S/MIME: its extendedKeyUsage is emailProtection only.
  const auto result = check(config_with_tls("device"));

  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("error: reception.tls: extendedKeyUsage does not include serverAuth"),
            std::string::npos)
      << result.output;
}

} // namespace
} // namespace router::testing
