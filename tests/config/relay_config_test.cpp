// Config loading of the SMTP relay target: STARTTLS mode, trust anchors,
// server name and AUTH credentials. Every bad value stops loading with a
// message that names the file, the entry and the field.
#include "runtime/config/config.hpp"

#include "tests/config/config_fixture.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

const std::string outbox_delivery = "delivery { outbox { directory: \"outbox\" } }";

class relay_config_test : public config_fixture {
 protected:
  static void SetUpTestSuite() {
    config_fixture::SetUpTestSuite();
    write_file(pki_dir_->path() / "relay.password", "s3cret\n");
    write_file(pki_dir_->path() / "empty.password", "");
    write_file(pki_dir_->path() / "not-a-certificate.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  }

  /// Returns the test config with delivery to a relay with these fields.
  static std::string relay_config(const std::string& fields) {
    return replace_once(test_config_text(), outbox_delivery,
                        "delivery { smtp_relay { host: \"relay.example.net\" port: 587 " + fields + " } }");
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(relay_config_test, FullRelayLoadsWithResolvedPaths) {
  const auto loaded = load(relay_config(
      "starttls: REQUIRED tls_trust_anchor_files: \"pki/root.pem\" tls_server_name: \"mx.example.net\" "
      "username: \"printer\" password_file: \"relay.password\""));

  const auto& relay = loaded.settings.delivery().smtp_relay();
  EXPECT_EQ(relay.starttls(), config::REQUIRED);
  EXPECT_EQ(relay.tls_trust_anchor_files(0), (pki_dir_->path() / "pki/root.pem").string());
  EXPECT_EQ(relay.password_file(), (pki_dir_->path() / "relay.password").string());
}

TEST_F(relay_config_test, PlainRelayWithoutTlsFieldsLoads) {
  EXPECT_NO_THROW(load(relay_config("starttls: NEVER")));
  EXPECT_NO_THROW(load(relay_config("")));
}

TEST_F(relay_config_test, MissingTrustAnchorFileIsNamed) {
  const std::string message = load_error(relay_config("tls_trust_anchor_files: \"absent-ca.pem\""));

  EXPECT_TRUE(contains(message, "router.textproto: delivery: field 'smtp_relay.tls_trust_anchor_files[0]'"))
      << message;
  EXPECT_TRUE(contains(message, "absent-ca.pem")) << message;
}

TEST_F(relay_config_test, UnparsableTrustAnchorFileIsNamed) {
  const std::string message = load_error(
      relay_config("tls_trust_anchor_files: \"pki/root.pem\" tls_trust_anchor_files: \"not-a-certificate.pem\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.tls_trust_anchor_files[1]'")) << message;
  EXPECT_TRUE(contains(message, "not-a-certificate.pem")) << message;
}

TEST_F(relay_config_test, UsernameWithoutPasswordFileIsRejected) {
  const std::string message = load_error(relay_config("username: \"printer\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.password_file'")) << message;
  EXPECT_TRUE(contains(message, "username 'printer'")) << message;
}

TEST_F(relay_config_test, PasswordFileWithoutUsernameIsRejected) {
  const std::string message = load_error(relay_config("password_file: \"relay.password\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.username'")) << message;
  EXPECT_TRUE(contains(message, "password_file is set")) << message;
}

TEST_F(relay_config_test, UnreadablePasswordFileIsNamed) {
  const std::string message =
      load_error(relay_config("username: \"printer\" password_file: \"absent.password\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.password_file'")) << message;
  EXPECT_TRUE(contains(message, (pki_dir_->path() / "absent.password").string())) << message;
  EXPECT_TRUE(contains(message, "cannot read")) << message;
}

TEST_F(relay_config_test, EmptyPasswordFileIsRejected) {
  const std::string message = load_error(relay_config("username: \"printer\" password_file: \"empty.password\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.password_file'")) << message;
  EXPECT_TRUE(contains(message, "empty.password is empty")) << message;
}

TEST_F(relay_config_test, UsernameWithStarttlsNeverIsRejected) {
  const std::string message =
      load_error(relay_config("starttls: NEVER username: \"printer\" password_file: \"relay.password\""));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.username'")) << message;
  EXPECT_TRUE(contains(message, "starttls is NEVER")) << message;
  EXPECT_TRUE(contains(message, "AUTH is only sent inside TLS")) << message;
}

TEST_F(relay_config_test, TlsFieldsWithStarttlsNeverAreRejected) {
  const std::string anchors =
      load_error(relay_config("starttls: NEVER tls_trust_anchor_files: \"pki/root.pem\""));
  const std::string name = load_error(relay_config("starttls: NEVER tls_server_name: \"mx.example.net\""));

  EXPECT_TRUE(contains(anchors, "field 'smtp_relay.tls_trust_anchor_files'")) << anchors;
  EXPECT_TRUE(contains(anchors, "starttls is NEVER")) << anchors;
  EXPECT_TRUE(contains(name, "field 'smtp_relay.tls_server_name'")) << name;
}

TEST_F(relay_config_test, UnknownStarttlsModeIsRejected) {
  const std::string by_name = load_error(relay_config("starttls: SOMETIMES"));
  const std::string by_number = load_error(relay_config("starttls: 7"));

  EXPECT_TRUE(contains(by_name, "SOMETIMES")) << by_name;
  EXPECT_TRUE(contains(by_number, "field 'smtp_relay.starttls'")) << by_number;
  EXPECT_TRUE(contains(by_number, "7 is not a known starttls_mode")) << by_number;
}

TEST_F(relay_config_test, LowerCaseStarttlsModeGetsHint) {
  const std::string message = load_error(relay_config("starttls: required"));

  EXPECT_TRUE(contains(message, "invalid value \"required\" for field 'delivery.smtp_relay.starttls'")) << message;
  EXPECT_TRUE(contains(message, "enum values are upper case, so write REQUIRED")) << message;
  EXPECT_TRUE(contains(message, "OPPORTUNISTIC, REQUIRED, NEVER")) << message;
  EXPECT_FALSE(contains(message, "STARTTLS_MODE_UNSPECIFIED")) << message;
}

TEST_F(relay_config_test, InvalidNamesAreRejected) {
  const struct {
    std::string fields;
    std::string field;
  } cases[] = {
      {"tls_server_name: \"mx example.net\"", "smtp_relay.tls_server_name"},
      {"helo_name: \"printer one\"", "smtp_relay.helo_name"},
      {"username: \"print\\ner\" password_file: \"relay.password\"", "smtp_relay.username"},
      {"timeout_seconds: 86400", "smtp_relay.timeout_seconds"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.fields);
    const std::string message = load_error(relay_config(bad.fields));
    EXPECT_TRUE(contains(message, "field '" + bad.field + "'")) << message;
  }
}

TEST_F(relay_config_test, InvalidHostIsRejected) {
  const std::string message = load_error(replace_once(
      test_config_text(), outbox_delivery, "delivery { smtp_relay { host: \"relay host\" port: 25 } }"));

  EXPECT_TRUE(contains(message, "field 'smtp_relay.host'")) << message;
  EXPECT_TRUE(contains(message, "'relay host'")) << message;
}

} // namespace
} // namespace router::testing
