// The reception server on 127.0.0.1 with real clients: Python smtplib
// (tests/smtp/smtp_client.py), swaks, and raw sockets for what no client
// library does on purpose. Each abuse case of docs/smtp-reception.md is
// exercised over a real socket here.
#include "runtime/common/error.hpp"
#include "runtime/log/log.hpp"
#include "runtime/smtp/connection.hpp"
#include "runtime/smtp/server.hpp"
#include "runtime/stats/stats.hpp"
#include "tests/common/log_capture.hpp"
#include "tests/common/test_support.hpp"
#include "tests/smtp/recording_handler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace router;
using namespace router::smtp;
using router::testing::log_capture;
using router::testing::recording_handler;
using router::testing::run_command;
using router::testing::shell_quote;
using router::testing::source_path;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

/// A stand-in for the TLS helper's handshake: the client must send the line
/// "FAKE-TLS-HELLO"; anything else makes it throw, as a failed handshake does.
void fake_tls_handshake(connection& client) {
  const auto hello = client.read_line(100, 2s);
  if (hello.text != "FAKE-TLS-HELLO")
    throw router_error("not a TLS handshake: \"" + printable(hello.text, 40) + "\"");
}

/// A raw client: connection::connect plus reply reading.
class raw_client {
 public:
  explicit raw_client(uint16_t port) : connection_(connection::connect("127.0.0.1", port, 5s)) {}

  /// Reads one whole reply (all its lines); throws at end of stream.
  std::string read_reply(milliseconds timeout = 10s) {
    std::string text;
    while (true) {
      const auto line = connection_->read_line(1000, timeout);
      text += line.text + "\n";
      if (line.text.size() < 4 || line.text[3] != '-')
        return text;
    }
  }

  void send(const std::string& data) { connection_->write_all(data, 5s); }

  /// True when the server closed the connection within `timeout`.
  bool closed_by_server(milliseconds timeout = 10s) {
    try {
      connection_->read_line(1000, timeout);
      return false;
    } catch (const connection_error& error) {
      return !error.timed_out();
    }
  }

 private:
  std::unique_ptr<connection> connection_;
};

class SmtpServer : public ::testing::Test {
 protected:
  SmtpServer() {
    settings.listen = "127.0.0.1:0";
    settings.host_name = "mx.test";
    settings.max_message_size = 100000;
    settings.max_recipients = 3;
    settings.max_sessions = 4;
    settings.command_timeout = 20s;
    settings.data_timeout = 20s;
    settings.stats = &figures;
  }

  void start(reception_server::tls_starter hook = {}) {
    server = std::make_unique<reception_server>(settings, handler, std::move(hook));
    server->start();
    ASSERT_NE(server->port(), 0);
  }

  void TearDown() override {
    if (server)
      server->stop();
  }

  std::string python(const std::string& scenario) {
    const auto result = run_command("/usr/bin/python3 " +
                                    shell_quote(source_path("tests/smtp/smtp_client.py").string()) + " " +
                                    scenario + " " + std::to_string(server->port()));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }

  std::string swaks(const std::string& arguments) {
    const auto result = run_command("swaks --server 127.0.0.1:" + std::to_string(server->port()) +
                                    " --helo client.test --from alice@client.test --timeout 20 " + arguments);
    return result.output;
  }

  uint64_t failures(const std::string& reason) {
    const auto snapshot = figures.take_snapshot();
    const auto actor = snapshot.actors.find(smtp::server_stats_name);
    if (actor == snapshot.actors.end())
      return 0;
    const auto count = actor->second.failures_by_reason.find(reason);
    return count == actor->second.failures_by_reason.end() ? 0 : count->second;
  }

  /// Waits until the server has logged `text`; session threads log after the
  /// client saw the reply.
  bool logged(const std::string& text, milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (logs.text().find(text) != std::string::npos)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  log_capture logs;
  stats::registry figures;
  recording_handler handler;
  reception_settings settings;
  std::unique_ptr<reception_server> server;
};

// --- start and stop --------------------------------------------------------

TEST_F(SmtpServer, StartsOnAFreePortAndStops) {
  start();
  raw_client client(server->port());
  EXPECT_EQ(client.read_reply(), "220 mx.test ESMTP ready\n");
  server->stop();
  server->stop();  // twice is fine
}

TEST_F(SmtpServer, StartNamesTheAddressItCannotBind) {
  start();
  reception_settings taken = settings;
  taken.listen = "127.0.0.1:" + std::to_string(server->port());
  reception_server second(taken, handler);
  try {
    second.start();
    FAIL() << "bound a port that is in use";
  } catch (const router_error& error) {
    EXPECT_THAT(error.what(), HasSubstr(taken.listen));
    EXPECT_THAT(error.what(), HasSubstr("pick a free port, or port 0"));
  }

  // 192.0.2.1 (TEST-NET-1, RFC 5737) is never an address of this host.
  reception_settings foreign = settings;
  foreign.listen = "192.0.2.1:0";
  reception_server not_owned(foreign, handler);
  try {
    not_owned.start();
    FAIL() << "bound an address this host does not own";
  } catch (const router_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("192.0.2.1:0"));
    EXPECT_THAT(error.what(), HasSubstr("use one it owns"));
  }

  reception_settings bad = settings;
  bad.listen = "mail.example:25";
  reception_server third(bad, handler);
  EXPECT_THROW(third.start(), router_error);
  bad.listen = "no port";
  reception_server fourth(bad, handler);
  try {
    fourth.start();
    FAIL();
  } catch (const router_error& error) {
    EXPECT_THAT(error.what(), HasSubstr("no port"));
  }
}

TEST_F(SmtpServer, LogsBoundAddressAtStartAndStop) {
  start();
  const std::string bound = "127.0.0.1:" + std::to_string(server->port());
  server->stop();

  const std::string text = logs.text();
  EXPECT_THAT(text, HasSubstr("smtp reception listening on " + bound + ", STARTTLS not offered, at most 4 sessions"));
  EXPECT_THAT(text, HasSubstr("smtp reception on " + bound + " stopped"));
  EXPECT_THAT(text, Not(HasSubstr("127.0.0.1:0")));
}

TEST_F(SmtpServer, StartTwiceIsRefused) {
  start();
  EXPECT_THROW(server->start(), router_error);
}

TEST_F(SmtpServer, StopWakesIdleAndMidDataSessionsPromptly) {
  settings.command_timeout = 300s;
  settings.data_timeout = 300s;
  start();
  raw_client idle(server->port());
  idle.read_reply();
  raw_client writing(server->port());
  writing.read_reply();
  writing.send("EHLO client.test\r\n");
  writing.read_reply();
  writing.send("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  writing.read_reply();
  writing.read_reply();
  EXPECT_THAT(writing.read_reply(), HasSubstr("354"));
  writing.send("Subject: unfinished\r\n");

  const auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(idle.closed_by_server(2s));
  EXPECT_TRUE(writing.closed_by_server(2s));
  EXPECT_EQ(handler.accept_calls(), 0u);
  EXPECT_THAT(logs.text(), HasSubstr("the server is stopping"));
}

// --- ordinary mail with real clients ----------------------------------------

TEST_F(SmtpServer, PythonSendsAMessageWithDotStuffedLines) {
  start();
  const auto output = python("send");
  EXPECT_THAT(output, HasSubstr("REPLY 250 mx.test | PIPELINING"));
  EXPECT_THAT(output, HasSubstr("SIZE 100000"));
  EXPECT_THAT(output, HasSubstr("8BITMIME"));
  EXPECT_THAT(output, HasSubstr("ENHANCEDSTATUSCODES"));
  EXPECT_THAT(output, Not(HasSubstr("STARTTLS")));
  EXPECT_THAT(output, HasSubstr("REFUSED unknown@mx.test 550 5.1.1"));
  EXPECT_THAT(output, HasSubstr("SENT"));
  EXPECT_THAT(output, HasSubstr("REPLY 221 2.0.0"));

  ASSERT_TRUE(handler.wait_for_messages(1));
  const auto message = handler.messages()[0];
  EXPECT_EQ(message.envelope.mail_from, "alice@client.test");
  EXPECT_EQ(message.envelope.recipients, (std::vector<std::string>{"bob@mx.test", "carol@mx.test"}));
  EXPECT_EQ(message.envelope.helo, "client.test");
  EXPECT_EQ(message.envelope.session_id, "r-000001");
  EXPECT_THAT(message.envelope.peer, HasSubstr("127.0.0.1:"));
  EXPECT_EQ(message.data,
            "From: alice@client.test\r\nTo: bob@mx.test\r\nSubject: dots\r\n\r\n"
            ".\r\n..two dots\r\n.leading dot\r\n.\r\nlast line\r\n");
}

TEST_F(SmtpServer, SwaksSendsWithPipelining) {
  start();
  const auto output = swaks("--to bob@mx.test --pipeline --header 'Subject: from swaks' --body 'swaks body'");
  EXPECT_THAT(output, HasSubstr("250 2.0.0 Queued as m1"));
  ASSERT_TRUE(handler.wait_for_messages(1));
  EXPECT_THAT(handler.messages()[0].data, HasSubstr("Subject: from swaks\r\n"));
  EXPECT_THAT(handler.messages()[0].data, HasSubstr("\r\n\r\nswaks body\r\n"));
}

TEST_F(SmtpServer, SwaksSendsWithHelo) {
  start();
  const auto output = swaks("--to bob@mx.test --protocol SMTP --body 'helo body'");
  EXPECT_THAT(output, HasSubstr("HELO client.test"));
  EXPECT_THAT(output, HasSubstr("250 2.0.0 Queued as m1"));
  ASSERT_TRUE(handler.wait_for_messages(1));
}

TEST_F(SmtpServer, SwaksDotStuffedLinesArriveUnstuffed) {
  start();
  router::testing::scratch_dir dir;
  router::testing::write_file(dir / "body.txt", ".\n..two\n.three\nend\n");
  const auto output = swaks("--to bob@mx.test --body " + shell_quote((dir / "body.txt").string()));
  EXPECT_THAT(output, HasSubstr("250 2.0.0 Queued"));
  ASSERT_TRUE(handler.wait_for_messages(1));
  EXPECT_THAT(handler.messages()[0].data, HasSubstr("\r\n\r\n.\r\n..two\r\n.three\r\nend\r\n"));
}

// --- abuse cases over a real socket -----------------------------------------

TEST_F(SmtpServer, BareLfIsRefused) {
  start();
  const auto output = python("bare-lf");
  EXPECT_THAT(output, HasSubstr("REPLY 500 5.5.2 Bare LF"));
  EXPECT_THAT(output, HasSubstr("REPLY 550 5.6.0 Message refused: it has bare LF"));
  EXPECT_THAT(output, HasSubstr("REPLY 250 2.0.0 OK"));  // the session goes on
  EXPECT_EQ(handler.accept_calls(), 0u);
  EXPECT_EQ(failures("BARE_LINE_END"), 2u);
}

TEST_F(SmtpServer, TenThousandOctetLinesAreRefused) {
  start();
  const auto output = python("long-line");
  EXPECT_THAT(output, HasSubstr("REPLY 500 5.5.2 Line too long: a command line may have at most 512 octets"));
  EXPECT_THAT(output, HasSubstr("REPLY 550 5.6.0 Message refused: a line is longer than 998 octets"));
  EXPECT_THAT(output, HasSubstr("SENT"));
  ASSERT_TRUE(handler.wait_for_messages(1));
  EXPECT_EQ(handler.accept_calls(), 1u);
  EXPECT_THAT(handler.messages()[0].data, HasSubstr("still usable"));
  EXPECT_EQ(failures("LINE_TOO_LONG"), 2u);
}

TEST_F(SmtpServer, TooManyRecipientsGet452) {
  start();
  const auto output = python("recipients");
  EXPECT_THAT(output, HasSubstr("REFUSED r4@mx.test 452 4.5.3"));
  EXPECT_THAT(output, HasSubstr("REFUSED r5@mx.test 452 4.5.3"));
  ASSERT_TRUE(handler.wait_for_messages(1));
  EXPECT_EQ(handler.messages()[0].envelope.recipients,
            (std::vector<std::string>{"r1@mx.test", "r2@mx.test", "r3@mx.test"}));
}

TEST_F(SmtpServer, SwaksTooManyRecipients) {
  start();
  const auto output = swaks("--to r1@mx.test,r2@mx.test,r3@mx.test,r4@mx.test");
  EXPECT_THAT(output, HasSubstr("452 4.5.3 Too many recipients"));
}

TEST_F(SmtpServer, DataOverTheSizeLimitGets552) {
  start();
  const auto output = python("size");
  EXPECT_THAT(output, HasSubstr("SIZE-LIMIT 100000"));
  EXPECT_THAT(output, HasSubstr("ERROR SMTPSenderRefused 552 5.3.4"));
  EXPECT_THAT(output, HasSubstr("REPLY 552 5.3.4 Message exceeds the size limit of 100000 octets"));
  EXPECT_THAT(output, HasSubstr("REPLY 250 2.0.0 OK"));
  EXPECT_EQ(handler.accept_calls(), 0u);
  EXPECT_EQ(failures("MESSAGE_TOO_BIG"), 2u);
}

TEST_F(SmtpServer, SwaksDataOverTheSizeLimit) {
  settings.max_message_size = 2000;
  start();
  router::testing::scratch_dir dir;
  std::string body;
  for (int i = 0; i < 100; ++i)
    body += std::string(60, 'b') + "\n";
  router::testing::write_file(dir / "body.txt", body);
  const auto output = swaks("--to bob@mx.test --body " + shell_quote((dir / "body.txt").string()));
  EXPECT_THAT(output, HasSubstr("552 5.3.4"));
  EXPECT_EQ(handler.accept_calls(), 0u);
}

TEST_F(SmtpServer, PipeliningAfterHeloGets554AndClose) {
  start();
  const auto output = python("pipelining-helo");
  EXPECT_THAT(output, HasSubstr("REPLY 554 5.5.0 Improper pipelining"));
  EXPECT_THAT(output, HasSubstr("CLOSED"));
  EXPECT_TRUE(handler.checked_recipients().empty());
  EXPECT_EQ(failures("PIPELINING"), 1u);
}

TEST_F(SmtpServer, EarlyTalkerGets554AndClose) {
  // Without a delay only a client whose bytes beat the greeting is caught;
  // the delay makes that certain.
  settings.greeting_delay = 1s;
  start();
  const auto output = python("early-talker");
  EXPECT_THAT(output, HasSubstr("LINE 554 5.5.0 Improper pipelining: input sent before the greeting"));
  EXPECT_THAT(output, HasSubstr("CLOSED"));
}

TEST_F(SmtpServer, GreetingDelayLetsPatientClientsIn) {
  settings.greeting_delay = 300ms;
  start();
  const auto started = std::chrono::steady_clock::now();
  const auto output = python("connect");
  EXPECT_THAT(output, HasSubstr("REPLY 250 2.0.0 OK"));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST_F(SmtpServer, ClientStoppingMidDataHitsTheDataTimeout) {
  settings.data_timeout = 500ms;
  start();
  const auto started = std::chrono::steady_clock::now();
  const auto output = python("stop-mid-data");
  EXPECT_THAT(output, HasSubstr("REPLY 354"));
  EXPECT_THAT(output, HasSubstr("REPLY 421 4.4.2 mx.test timeout"));
  EXPECT_THAT(output, HasSubstr("CLOSED"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(handler.accept_calls(), 0u);
  EXPECT_TRUE(logged("timed out in the middle of message data"));
  EXPECT_EQ(failures("TIMEOUT"), 1u);
}

TEST_F(SmtpServer, IdleClientHitsTheCommandTimeout) {
  settings.command_timeout = 300ms;
  start();
  raw_client client(server->port());
  client.read_reply();
  EXPECT_THAT(client.read_reply(5s), HasSubstr("421 4.4.2"));
  EXPECT_TRUE(client.closed_by_server(2s));
  EXPECT_TRUE(logged("timed out waiting for a command"));
}

TEST_F(SmtpServer, SessionsBeyondTheLimitGet421) {
  settings.max_sessions = 2;
  start();
  auto first = std::make_unique<raw_client>(server->port());
  raw_client second(server->port());
  EXPECT_THAT(first->read_reply(), HasSubstr("220"));
  EXPECT_THAT(second.read_reply(), HasSubstr("220"));

  const auto output = python("connect");
  EXPECT_THAT(output, HasSubstr("ERROR SMTPConnectError 421 4.3.2"));
  const auto swaks_output = swaks("--to bob@mx.test");
  EXPECT_THAT(swaks_output, HasSubstr("421 4.3.2"));
  EXPECT_EQ(failures("TOO_MANY_SESSIONS"), 2u);

  // A freed session lets the next client in.
  first->send("QUIT\r\n");
  first->read_reply();
  first.reset();
  std::string later;
  for (int attempt = 0; attempt < 50; ++attempt) {
    later = python("connect");
    if (later.find("REPLY 250") != std::string::npos)
      break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_THAT(later, HasSubstr("REPLY 250 2.0.0 OK"));
}

TEST_F(SmtpServer, GarbageAfterStartTlsClosesTheSession) {
  start(fake_tls_handshake);
  const auto output = python("starttls-garbage");
  EXPECT_THAT(output, HasSubstr("STARTTLS-OFFERED True"));
  EXPECT_THAT(output, HasSubstr("REPLY 220 2.0.0 Ready to start TLS"));
  EXPECT_THAT(output, HasSubstr("CLOSED"));
  EXPECT_TRUE(handler.checked_recipients().empty());
  EXPECT_TRUE(logged("TLS handshake failed: not a TLS handshake"));
  EXPECT_EQ(failures("TLS_FAILED"), 1u);
}

TEST_F(SmtpServer, PlaintextPipelinedAfterStartTlsGets554) {
  start(fake_tls_handshake);
  const auto output = python("starttls-pipelined");
  EXPECT_THAT(output, HasSubstr("REPLY 554 5.5.0 Improper pipelining: commands sent before the reply to STARTTLS"));
  EXPECT_THAT(output, HasSubstr("CLOSED"));
}

TEST_F(SmtpServer, RealTlsHandshakeAgainstAFailingHookCloses) {
  start([](connection&) { throw router_error("no TLS configured in this test"); });
  const auto output = python("starttls-real");
  EXPECT_THAT(output, HasSubstr("ERROR"));
  EXPECT_THAT(output, Not(HasSubstr("TLS-STARTED")));
  EXPECT_TRUE(logged("TLS handshake failed: no TLS configured in this test; closing"));
}

TEST_F(SmtpServer, StartTlsResetsSessionState) {
  start(fake_tls_handshake);
  const auto output = python("fake-tls");
  EXPECT_THAT(output, HasSubstr("STARTTLS-OFFERED True\nREPLY 220 2.0.0 Ready to start TLS\nREPLY 503 5.5.1"));
  EXPECT_THAT(output, HasSubstr("STARTTLS-OFFERED False"));
  EXPECT_THAT(output, HasSubstr("SENT"));
  ASSERT_TRUE(handler.wait_for_messages(1));
  EXPECT_TRUE(handler.messages()[0].envelope.tls);
  EXPECT_TRUE(logged("TLS started"));
}

TEST_F(SmtpServer, StartTlsIsNotOfferedWithoutAHook) {
  start();
  raw_client client(server->port());
  client.read_reply();
  client.send("EHLO client.test\r\n");
  EXPECT_THAT(client.read_reply(), Not(HasSubstr("STARTTLS")));
  client.send("STARTTLS\r\n");
  EXPECT_EQ(client.read_reply(), "502 5.5.1 STARTTLS is not offered\n");
}

// --- logs and statistics ----------------------------------------------------

TEST_F(SmtpServer, LogsOneLinePerEventWithoutTheBody) {
  start();
  raw_client client(server->port());
  client.read_reply();
  client.send("EHLO client.test\r\n");
  client.read_reply();
  client.send("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\nRCPT TO:<unknown@mx.test>\r\nDATA\r\n");
  for (int i = 0; i < 4; ++i)
    client.read_reply();
  client.send("Subject: private\r\n\r\nSECRET-BODY-TEXT\r\n.\r\nQUIT\r\n");
  EXPECT_THAT(client.read_reply(), HasSubstr("250 2.0.0"));
  EXPECT_THAT(client.read_reply(), HasSubstr("221 2.0.0"));
  ASSERT_TRUE(logged("closed after QUIT"));

  const std::string text = logs.text();
  EXPECT_THAT(text, HasSubstr("smtp reception r-000001 127.0.0.1:"));
  EXPECT_THAT(text, HasSubstr(": connected"));
  EXPECT_THAT(text, HasSubstr(": EHLO client.test"));
  EXPECT_THAT(text, HasSubstr(": MAIL FROM:<alice@client.test>: 250 2.1.0 Sender OK"));
  EXPECT_THAT(text, HasSubstr(": RCPT TO:<bob@mx.test>: 250 2.1.5 Recipient OK"));
  EXPECT_THAT(text, HasSubstr(": RCPT TO:<unknown@mx.test>: 550 5.1.1 No such recipient here"));
  EXPECT_THAT(text, HasSubstr(": message accepted: 250 2.0.0 Queued as m1 (38 octets, 1 recipient)"));
  EXPECT_THAT(text, Not(HasSubstr("SECRET")));
  EXPECT_THAT(text, Not(HasSubstr("private")));

  // One session; the handler's refusal of a recipient is its own to count.
  const auto snapshot = figures.take_snapshot();
  ASSERT_EQ(snapshot.actors.count(smtp::server_stats_name), 1u);
  EXPECT_EQ(snapshot.actors.count("reception"), 0u);
  EXPECT_EQ(snapshot.actors.at(smtp::server_stats_name).messages_received, 1u);
  EXPECT_EQ(snapshot.actors.at(smtp::server_stats_name).messages_handled, 1u);
  EXPECT_TRUE(snapshot.actors.at(smtp::server_stats_name).failures_by_reason.empty());
}

TEST_F(SmtpServer, SessionIdsCount) {
  start();
  for (int i = 0; i < 3; ++i) {
    raw_client client(server->port());
    client.read_reply();
    client.send("QUIT\r\n");
    client.read_reply();
  }
  EXPECT_TRUE(logged("r-000003"));
}

TEST_F(SmtpServer, WorksWithoutStatistics) {
  settings.stats = nullptr;
  settings.data_timeout = 200ms;
  start();
  const auto output = python("stop-mid-data");
  EXPECT_THAT(output, HasSubstr("REPLY 421 4.4.2"));
}

} // namespace
