// The relay client against a real aiosmtpd relay on 127.0.0.1: plain and
// STARTTLS sessions, certificate checks, AUTH, SIZE, replies that fail
// temporarily or permanently, and session reuse.
#include "runtime/delivery/smtp_client.hpp"

#include "runtime/log/log.hpp"
#include "runtime/smtp/connection.hpp"
#include "tests/delivery/relay_support.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <future>
#include <sstream>

namespace router::testing {
namespace {

using delivery::delivery_error;
using delivery::envelope;
using delivery::smtp_client;
using delivery::smtp_relay_settings;

const std::string test_password = "s3cret-Pa55word";

class smtp_client_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificates_dir_ = new scratch_dir();
    certificates_ = new relay_certificates(make_relay_certificates(certificates_dir_->path()));
    log_text_ = new std::ostringstream();
    log::logger()->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_mt>(*log_text_));
    log::set_level("info");
  }

  static void TearDownTestSuite() {
    log::logger()->sinks().pop_back();
    log::set_level("warn");
    delete log_text_;
    delete certificates_;
    delete certificates_dir_;
  }

  void SetUp() override { log_text_->str(""); }

  /// Starts a relay that offers STARTTLS with the test server certificate.
  test_relay tls_relay(std::vector<std::string> options = {}) {
    options.insert(options.end(), {"--tls-cert", certificates_->server_certificate.string(), "--tls-key",
                                   certificates_->server_key.string()});
    return test_relay(work_.path() / "relay", options);
  }

  test_relay plain_relay(const std::vector<std::string>& options = {}) {
    return test_relay(work_.path() / "relay", options);
  }

  static smtp_relay_settings settings_for(const test_relay& relay, config::starttls_mode mode) {
    smtp_relay_settings settings;
    settings.host = "127.0.0.1";
    settings.port = relay.port();
    settings.helo_name = "router.test";
    settings.timeout = std::chrono::seconds(20);
    settings.starttls = mode;
    settings.trust = smtp::tls_client_trust::from_files({certificates_->ca.string()});
    settings.tls_server_name = "localhost";
    return settings;
  }

  static envelope message(const std::string& body = "Subject: test\r\n\r\nhello\r\n",
                          const std::string& recipient = "bob@example.com") {
    return envelope{"job-7", 2, "router@example.com", {recipient}, body};
  }

  /// Delivers and returns the error; fails the test when delivery succeeds.
  static delivery_error failure(smtp_client& client, const envelope& sent) {
    try {
      client.deliver(sent);
    } catch (const delivery_error& e) {
      return e;
    }
    ADD_FAILURE() << "delivery succeeded, but a failure was expected";
    return delivery_error("", false);
  }

  static std::string logged() { return log_text_->str(); }

  scratch_dir work_;
  static scratch_dir* certificates_dir_;
  static relay_certificates* certificates_;
  static std::ostringstream* log_text_;
};

scratch_dir* smtp_client_test::certificates_dir_ = nullptr;
relay_certificates* smtp_client_test::certificates_ = nullptr;
std::ostringstream* smtp_client_test::log_text_ = nullptr;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(smtp_client_test, PlainDeliveryStoresDotStuffedMessage) {
  const test_relay relay = plain_relay();
  smtp_client client(settings_for(relay, config::NEVER));

  const auto receipt = client.deliver(message("Subject: dots\r\n\r\n.hidden line\r\n..two\r\nend\r\n"));

  EXPECT_TRUE(contains(receipt.smtp_reply, "250 2.0.0 stored as")) << receipt.smtp_reply;
  const auto stored = relay.messages();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(contains(stored[0], "\r\n.hidden line\r\n..two\r\nend")) << stored[0];
  EXPECT_EQ(relay.count("tls"), 0u);
}

TEST_F(smtp_client_test, OpportunisticWithoutStarttlsSendsPlain) {
  const test_relay relay = plain_relay();
  smtp_client client(settings_for(relay, config::OPPORTUNISTIC));

  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(relay.count("tls"), 0u);
}

TEST_F(smtp_client_test, OpportunisticUsesOfferedStarttls) {
  const test_relay relay = tls_relay();
  smtp_client client(settings_for(relay, config::OPPORTUNISTIC));

  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(relay.count("tls"), 1u);
  // EHLO is sent again once TLS is up.
  EXPECT_EQ(relay.count("ehlo"), 2u);
  EXPECT_TRUE(contains(logged(), "TLS established: TLS v1.2")) << logged();
}

TEST_F(smtp_client_test, RequiredStarttlsDelivers) {
  const test_relay relay = tls_relay({"--require-starttls"});
  smtp_client client(settings_for(relay, config::REQUIRED));

  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(relay.count("tls"), 1u);
}

TEST_F(smtp_client_test, RequiredAgainstPlainRelayFailsPermanently) {
  const test_relay relay = plain_relay();
  smtp_client client(settings_for(relay, config::REQUIRED));

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "does not offer STARTTLS")) << error.what();
  EXPECT_TRUE(contains(error.what(), "REQUIRED")) << error.what();
  EXPECT_EQ(relay.count("mail"), 0u);
}

TEST_F(smtp_client_test, UntrustedCertificateFailsWithoutFallback) {
  const test_relay relay = tls_relay();
  auto settings = settings_for(relay, config::OPPORTUNISTIC);
  settings.trust = smtp::tls_client_trust::from_files({certificates_->other_ca.string()});
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "TLS handshake with localhost")) << error.what();
  EXPECT_TRUE(contains(error.what(), "certificate was rejected")) << error.what();
  EXPECT_TRUE(contains(error.what(), "other-ca.pem")) << error.what();
  EXPECT_EQ(relay.count("mail"), 0u);
  EXPECT_TRUE(relay.messages().empty());
}

TEST_F(smtp_client_test, WrongServerNameFails) {
  const test_relay relay = tls_relay();
  auto settings = settings_for(relay, config::REQUIRED);
  settings.tls_server_name = "relay.example.net";
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "'relay.example.net'")) << error.what();
  EXPECT_TRUE(contains(error.what(), "does not match")) << error.what();
  EXPECT_EQ(relay.count("mail"), 0u);
}

TEST_F(smtp_client_test, CertificateExpiredAtInjectedTimeFails) {
  const test_relay relay = tls_relay();
  auto settings = settings_for(relay, config::REQUIRED);
  // The test certificates are valid for 30 days from their creation.
  settings.trust->set_clock([] { return std::chrono::system_clock::now() + std::chrono::hours(24 * 60); });
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "expired")) << error.what();
}

TEST_F(smtp_client_test, AuthPlainInsideTls) {
  const test_relay relay = tls_relay({"--auth-user", "printer", "--auth-password", test_password});
  auto settings = settings_for(relay, config::REQUIRED);
  settings.username = "printer";
  settings.password = test_password;
  smtp_client client(settings);

  client.deliver(message());

  EXPECT_EQ(relay.count("auth PLAIN printer ok"), 1u);
  EXPECT_EQ(relay.messages().size(), 1u);
  EXPECT_TRUE(contains(logged(), "AUTH PLAIN as 'printer' accepted")) << logged();
}

TEST_F(smtp_client_test, AuthLoginWhenPlainIsNotOffered) {
  const test_relay relay =
      tls_relay({"--auth-user", "printer", "--auth-password", test_password, "--auth-exclude", "PLAIN"});
  auto settings = settings_for(relay, config::OPPORTUNISTIC);
  settings.username = "printer";
  settings.password = test_password;
  smtp_client client(settings);

  client.deliver(message());

  EXPECT_EQ(relay.count("auth LOGIN printer ok"), 1u);
  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST_F(smtp_client_test, WrongPasswordFailsPermanentlyWithoutShowingIt) {
  const test_relay relay = tls_relay({"--auth-user", "printer", "--auth-password", "another-password"});
  auto settings = settings_for(relay, config::REQUIRED);
  settings.username = "printer";
  settings.password = test_password;
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "username 'printer'")) << error.what();
  EXPECT_TRUE(contains(error.what(), "535")) << error.what();
  EXPECT_FALSE(contains(error.what(), test_password)) << error.what();
  EXPECT_FALSE(contains(logged(), test_password));
  EXPECT_EQ(relay.count("auth PLAIN printer failed"), 1u);
  EXPECT_EQ(relay.count("mail"), 0u);
}

TEST_F(smtp_client_test, UsernameWithoutTlsIsRefusedBeforeAuth) {
  const test_relay relay = plain_relay({"--auth-user", "printer", "--auth-password", test_password,
                                        "--auth-without-tls"});
  auto settings = settings_for(relay, config::OPPORTUNISTIC);
  settings.username = "printer";
  settings.password = test_password;
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "not encrypted")) << error.what();
  EXPECT_TRUE(contains(error.what(), "AUTH was not tried")) << error.what();
  EXPECT_EQ(relay.count("auth"), 0u);
  EXPECT_EQ(relay.count("mail"), 0u);
}

TEST_F(smtp_client_test, SizeParameterIsSentWhenOffered) {
  const test_relay relay = plain_relay({"--size", "100000"});
  smtp_client client(settings_for(relay, config::NEVER));
  const auto sent = message();

  client.deliver(sent);

  EXPECT_EQ(relay.count("mail router@example.com SIZE=" + std::to_string(sent.message.size())), 1u);
}

TEST_F(smtp_client_test, MessageOverSizeLimitFailsBeforeData) {
  const test_relay relay = plain_relay({"--size", "1000"});
  smtp_client client(settings_for(relay, config::NEVER));

  const auto error = failure(client, message("Subject: big\r\n\r\n" + std::string(5000, 'x') + "\r\n"));

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "SIZE limit of 1000 octets")) << error.what();
  EXPECT_EQ(relay.count("mail"), 0u);
  EXPECT_EQ(relay.count("data"), 0u);
}

TEST_F(smtp_client_test, TemporaryReplyIsRetriedUnderRetryPolicy) {
  const test_relay relay = plain_relay({"--fail-mail", "1"});
  smtp_client client(settings_for(relay, config::NEVER));
  const delivery::retry_policy policy{3, std::chrono::milliseconds(10)};

  const auto first = failure(client, message());
  ASSERT_TRUE(first.temporary());
  EXPECT_TRUE(contains(first.what(), "451 4.3.2 system busy")) << first.what();
  EXPECT_TRUE(policy.should_retry(first, 1));

  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 1u);
  EXPECT_EQ(relay.count("rset"), 1u);
  EXPECT_EQ(relay.count("connect"), 1u);
}

TEST_F(smtp_client_test, PermanentReplyCarriesRelayText) {
  const test_relay relay = plain_relay({"--reject-data", "content refused by policy"});
  smtp_client client(settings_for(relay, config::NEVER));
  const delivery::retry_policy policy;

  const auto error = failure(client, message());

  EXPECT_FALSE(error.temporary());
  EXPECT_FALSE(policy.should_retry(error, 1));
  EXPECT_TRUE(contains(error.what(), "554 5.6.0 content refused by policy")) << error.what();
  EXPECT_TRUE(contains(error.what(), "relay 127.0.0.1:")) << error.what();
}

TEST_F(smtp_client_test, RejectedRecipientKeepsSessionForNextMessage) {
  const test_relay relay = plain_relay();
  smtp_client client(settings_for(relay, config::NEVER));

  const auto error = failure(client, message("Subject: x\r\n\r\nx\r\n", "reject@example.com"));
  client.deliver(message());

  EXPECT_FALSE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "RCPT TO:<reject@example.com>: 550 5.1.1")) << error.what();
  EXPECT_EQ(relay.count("rset"), 1u);
  EXPECT_EQ(relay.count("connect"), 1u);
  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST_F(smtp_client_test, ConsecutiveMessagesShareOneConnection) {
  const test_relay relay = tls_relay();
  {
    smtp_client client(settings_for(relay, config::REQUIRED));
    client.deliver(message());
    client.deliver(message());
  }

  EXPECT_EQ(relay.messages().size(), 2u);
  EXPECT_EQ(relay.count("connect"), 1u);
  EXPECT_EQ(relay.count("tls"), 1u);
  // Destroying the client ends the session with QUIT.
  EXPECT_TRUE(relay.wait_for("quit", 1));
}

TEST_F(smtp_client_test, RelayClosedIdleSessionIsReplaced) {
  const test_relay relay = plain_relay({"--close-after-message"});
  smtp_client client(settings_for(relay, config::NEVER));

  client.deliver(message());
  ASSERT_TRUE(relay.wait_for("disconnect", 1));
  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 2u);
  EXPECT_EQ(relay.count("connect"), 2u);
  EXPECT_TRUE(contains(logged(), "the relay closed the idle session; reconnecting")) << logged();
}

TEST_F(smtp_client_test, RelayClosedTlsSessionIsReplaced) {
  const test_relay relay = tls_relay({"--close-after-message"});
  smtp_client client(settings_for(relay, config::REQUIRED));

  client.deliver(message());
  ASSERT_TRUE(relay.wait_for("server-close", 1));
  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 2u);
  EXPECT_EQ(relay.count("connect"), 2u);
  EXPECT_EQ(relay.count("tls"), 2u);
}

/// Acts as a relay on an accepted connection: sends the greeting, replies to
/// EHLO and `messages` transactions, then reads one more command and returns it.
std::string serve_scripted_relay(smtp::connection& peer, int messages) {
  const smtp::milliseconds timeout(20000);
  peer.write_all("220 scripted relay ready\r\n", timeout);
  int delivered = 0;
  while (true) {
    const std::string command = peer.read_line(1000, timeout).text;
    if (delivered == messages && command.rfind("MAIL", 0) == 0)
      return command;
    if (command.rfind("DATA", 0) == 0) {
      peer.write_all("354 send the data\r\n", timeout);
      while (peer.read_line(100000, timeout).text != ".") {
      }
      ++delivered;
      peer.write_all("250 queued as " + std::to_string(delivered) + "\r\n", timeout);
    } else if (command.rfind("QUIT", 0) == 0) {
      peer.write_all("221 bye\r\n", timeout);
      return command;
    } else {
      peer.write_all("250 ok\r\n", timeout);
    }
  }
}

TEST_F(smtp_client_test, ReusedSessionClosedAtMailIsReplacedOnce) {
  smtp::listener server("127.0.0.1:0");
  auto relay = std::async(std::launch::async, [&server] {
    std::vector<std::string> last_commands;
    // The first session carries one message and is then dropped when the
    // next MAIL arrives, as a relay restarting between messages would.
    auto first = server.accept(smtp::milliseconds(20000));
    last_commands.push_back(serve_scripted_relay(*first, 1));
    first.reset();
    auto second = server.accept(smtp::milliseconds(20000));
    last_commands.push_back(serve_scripted_relay(*second, 1));
    return last_commands;
  });
  smtp_relay_settings settings;
  settings.host = "127.0.0.1";
  settings.port = server.port();
  settings.starttls = config::NEVER;

  {
    smtp_client client(settings);
    client.deliver(message());
    const auto receipt = client.deliver(message());
    EXPECT_EQ(receipt.smtp_reply, "250 queued as 1");
  }
  const auto last_commands = relay.get();

  ASSERT_EQ(last_commands.size(), 2u);
  EXPECT_EQ(last_commands[0], "MAIL FROM:<router@example.com>");
  EXPECT_EQ(last_commands[1], "QUIT");
  EXPECT_TRUE(contains(logged(), "the reused session was closed by the relay; reconnecting once")) << logged();
}

TEST_F(smtp_client_test, SessionIdleTooLongEndsWithQuit) {
  const test_relay relay = plain_relay();
  auto now = std::chrono::steady_clock::now();
  auto settings = settings_for(relay, config::NEVER);
  settings.idle_timeout = std::chrono::seconds(30);
  settings.clock = [&now] { return now; };
  smtp_client client(settings);

  client.deliver(message());
  now += std::chrono::seconds(31);
  client.deliver(message());

  EXPECT_EQ(relay.count("quit"), 1u);
  EXPECT_EQ(relay.count("connect"), 2u);
  EXPECT_EQ(relay.messages().size(), 2u);
}

TEST_F(smtp_client_test, HeloWhenEhloIsRejected) {
  const test_relay relay = plain_relay({"--reject-ehlo"});
  smtp_client client(settings_for(relay, config::OPPORTUNISTIC));

  client.deliver(message());

  EXPECT_EQ(relay.messages().size(), 1u);
}

TEST_F(smtp_client_test, UnreachableRelayIsTemporary) {
  uint16_t closed_port = 0;
  {
    const smtp::listener probe("127.0.0.1:0");
    closed_port = probe.port();
  }
  smtp_relay_settings settings;
  settings.host = "127.0.0.1";
  settings.port = closed_port;
  settings.starttls = config::NEVER;
  smtp_client client(settings);

  const auto error = failure(client, message());

  EXPECT_TRUE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "cannot connect to 127.0.0.1:" + std::to_string(closed_port))) << error.what();
}

TEST_F(smtp_client_test, SilentRelayTimesOutTemporarily) {
  smtp::listener silent("127.0.0.1:0");
  smtp_relay_settings settings;
  settings.host = "127.0.0.1";
  settings.port = silent.port();
  settings.starttls = config::NEVER;
  settings.timeout = std::chrono::seconds(1);
  smtp_client client(settings);

  // The connection completes in the listen backlog, and no greeting is ever sent.
  const auto error = failure(client, message());

  EXPECT_TRUE(error.temporary());
  EXPECT_TRUE(contains(error.what(), "timed out")) << error.what();
  EXPECT_TRUE(contains(error.what(), "greeting")) << error.what();
}

TEST_F(smtp_client_test, InvalidEnvelopeAddressFailsBeforeConnecting) {
  smtp_relay_settings settings;
  settings.host = "127.0.0.1";
  settings.port = 9;  // never contacted: the envelope check comes first
  settings.starttls = config::NEVER;
  smtp_client client(settings);

  for (const std::string recipient : {"bob@example.com>\r\nRCPT TO:<eve@example.com", "two words@example.com", ""}) {
    SCOPED_TRACE(recipient);
    const auto error = failure(client, message("Subject: x\r\n\r\nx\r\n", recipient));
    EXPECT_FALSE(error.temporary());
    EXPECT_TRUE(contains(error.what(), "recipient address")) << error.what();
  }
}

TEST_F(smtp_client_test, MakeDelivererRejectsEmptyPasswordFile) {
  write_file(work_.path() / "password", "\n");
  config::delivery_target target;
  auto& relay = *target.mutable_smtp_relay();
  relay.set_host("127.0.0.1");
  relay.set_port(25);
  relay.set_starttls(config::REQUIRED);
  relay.add_tls_trust_anchor_files(certificates_->ca.string());
  relay.set_username("printer");
  relay.set_password_file((work_.path() / "password").string());

  try {
    delivery::make_deliverer(target);
    FAIL() << "make_deliverer accepted an empty password file";
  } catch (const delivery_error& e) {
    EXPECT_FALSE(e.temporary());
    EXPECT_TRUE(contains(e.what(), (work_.path() / "password").string())) << e.what();
    EXPECT_TRUE(contains(e.what(), "is empty")) << e.what();
  }
}

TEST_F(smtp_client_test, MakeDelivererNamesBlankFirstPasswordLine) {
  write_file(work_.path() / "password", "\nsecret-on-line-two\n");
  config::delivery_target target;
  auto& relay = *target.mutable_smtp_relay();
  relay.set_host("127.0.0.1");
  relay.set_port(25);
  relay.set_starttls(config::REQUIRED);
  relay.add_tls_trust_anchor_files(certificates_->ca.string());
  relay.set_username("printer");
  relay.set_password_file((work_.path() / "password").string());

  try {
    delivery::make_deliverer(target);
    FAIL() << "make_deliverer accepted a password file with a blank first line";
  } catch (const delivery_error& e) {
    EXPECT_FALSE(e.temporary());
    EXPECT_TRUE(contains(e.what(), "the first line of the password file")) << e.what();
    EXPECT_TRUE(contains(e.what(), "is blank")) << e.what();
    EXPECT_FALSE(contains(e.what(), "is empty")) << e.what();
    EXPECT_FALSE(contains(e.what(), "secret-on-line-two")) << e.what();
  }
}

TEST(smtp_protocol_test, EhloExtensionsAreParsed) {
  const auto extensions = delivery::parse_ehlo_extensions(
      {"relay.example.net greets you", "PIPELINING", "size 35882577", "AUTH PLAIN login CRAM-MD5", "STARTTLS"});

  EXPECT_TRUE(extensions.starttls);
  EXPECT_TRUE(extensions.size);
  EXPECT_EQ(extensions.size_limit, 35882577u);
  EXPECT_EQ(extensions.auth_mechanisms, (std::set<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
}

TEST(smtp_protocol_test, GreetingLineIsNotAnExtension) {
  const auto extensions = delivery::parse_ehlo_extensions({"STARTTLS"});

  EXPECT_FALSE(extensions.starttls);
}

TEST(smtp_protocol_test, SizeWithoutNumberHasNoLimit) {
  for (const std::string line : {"SIZE", "SIZE abc", "SIZE 99999999999999999999999"}) {
    SCOPED_TRACE(line);
    const auto extensions = delivery::parse_ehlo_extensions({"relay", line});
    EXPECT_TRUE(extensions.size);
    EXPECT_EQ(extensions.size_limit, 0u);
  }
}

TEST(smtp_protocol_test, DotStuffingDoublesLeadingDots) {
  EXPECT_EQ(delivery::dot_stuff(".a\r\nb.\r\n.\r\n"), "..a\r\nb.\r\n..\r\n.\r\n");
  EXPECT_EQ(delivery::dot_stuff("no final line end"), "no final line end\r\n.\r\n");
}

} // namespace
} // namespace router::testing
