// The SMTP session state machine without sockets: every command, every state
// error and every abuse case, fed line by line as connection::read_line would.
#include "runtime/smtp/server_session.hpp"
#include "tests/smtp/recording_handler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using namespace router::smtp;
using router::testing::recording_handler;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t test_size_limit = 1000;

class SmtpSession : public ::testing::Test {
 protected:
  void SetUp() override { make_session(false); }

  void make_session(bool tls_available, uint64_t size_limit = test_size_limit) {
    session_settings settings;
    settings.session_id = "r-000007";
    settings.peer = "192.0.2.1:4000";
    settings.host_name = "mx.test";
    settings.max_message_size = size_limit;
    settings.max_recipients = 3;
    settings.tls_available = tls_available;
    session = std::make_unique<server_session>(settings, handler);
    const auto greeting = session->start(false);
    ASSERT_EQ(greeting.code, 220);
  }

  session_output send(const std::string& text, bool input_waiting = false) {
    auto output = session->on_line({text, false, false}, input_waiting);
    outputs.push_back(output);
    return output;
  }

  session_output send_bare(const std::string& text) {
    auto output = session->on_line({text, false, true}, false);
    outputs.push_back(output);
    return output;
  }

  /// Sends a line that the connection cut at the session's limit.
  session_output send_long(const std::string& text) {
    auto output = session->on_line({text.substr(0, session->line_limit()), true, false}, false);
    outputs.push_back(output);
    return output;
  }

  /// Splits raw bytes into lines exactly as connection::read_line does, and
  /// feeds them; `input_waiting` is set as the server sets it. Returns the
  /// outputs that carry a reply.
  std::vector<session_output> feed(std::string bytes) {
    std::vector<session_output> replies;
    while (!session->closed()) {
      const auto end = bytes.find('\n');
      if (end == std::string::npos)
        break;
      input_line line;
      line.bare_lf = !(end > 0 && bytes[end - 1] == '\r');
      const size_t text_end = line.bare_lf ? end : end - 1;
      line.too_long = text_end > session->line_limit();
      line.text = bytes.substr(0, std::min(text_end, session->line_limit()));
      bytes.erase(0, end + 1);
      const bool waiting = !session->reading_data() && !bytes.empty();
      auto output = session->on_line(line, waiting);
      outputs.push_back(output);
      if (output.has_reply())
        replies.push_back(output);
    }
    return replies;
  }

  void open_transaction() {
    ASSERT_EQ(send("EHLO client.test").code, 250);
    ASSERT_EQ(send("MAIL FROM:<alice@client.test>").code, 250);
    ASSERT_EQ(send("RCPT TO:<bob@mx.test>").code, 250);
    ASSERT_EQ(send("DATA").code, 354);
    ASSERT_TRUE(session->reading_data());
  }

  static void expect_reply(const session_output& output, int code, const std::string& status) {
    EXPECT_EQ(output.code, code) << output.wire();
    EXPECT_EQ(output.status, status) << output.wire();
  }

  recording_handler handler;
  std::unique_ptr<server_session> session;
  std::vector<session_output> outputs;
};

TEST_F(SmtpSession, GreetsWithHostNameAndNoStatusCode) {
  recording_handler other;
  session_settings settings;
  settings.host_name = "mx.test";
  server_session fresh(settings, other);
  const auto greeting = fresh.start(false);
  EXPECT_EQ(greeting.wire(), "220 mx.test ESMTP ready\r\n");
  EXPECT_EQ(greeting.action, session_action::none);
}

TEST_F(SmtpSession, EarlyTalkerGets554AndClose) {
  recording_handler other;
  server_session fresh(session_settings{}, other);
  const auto greeting = fresh.start(true);
  expect_reply(greeting, 554, "5.5.0");
  EXPECT_EQ(greeting.action, session_action::close);
  EXPECT_EQ(greeting.failure, "PIPELINING");
  EXPECT_TRUE(fresh.closed());
}

TEST_F(SmtpSession, EhloAdvertisesTheExtensions) {
  const auto reply = send("EHLO client.test");
  EXPECT_EQ(reply.wire(),
            "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
  EXPECT_EQ(session->envelope().helo, "client.test");
  EXPECT_TRUE(session->envelope().extended);
  EXPECT_THAT(reply.event, HasSubstr("EHLO client.test"));
}

TEST_F(SmtpSession, EhloOffersStartTlsWhenAvailable) {
  make_session(true);
  EXPECT_THAT(send("EHLO client.test").wire(), HasSubstr("250-STARTTLS\r\n"));
  session->tls_started();
  EXPECT_THAT(send("EHLO client.test").wire(), Not(HasSubstr("STARTTLS")));
}

TEST_F(SmtpSession, HeloGetsOneLine) {
  EXPECT_EQ(send("HELO client.test").wire(), "250 mx.test\r\n");
  EXPECT_FALSE(session->envelope().extended);
}

TEST_F(SmtpSession, ReceivesAMessage) {
  open_transaction();
  EXPECT_FALSE(send("Subject: hello").has_reply());
  EXPECT_FALSE(send("").has_reply());
  EXPECT_FALSE(send("Body line").has_reply());
  const auto done = send(".");
  expect_reply(done, 250, "2.0.0");
  EXPECT_EQ(done.text.front(), "Queued as m1");
  EXPECT_TRUE(done.message_ended);
  EXPECT_FALSE(session->reading_data());

  const auto messages = handler.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, "Subject: hello\r\n\r\nBody line\r\n");
  EXPECT_EQ(messages[0].envelope.mail_from, "alice@client.test");
  EXPECT_EQ(messages[0].envelope.recipients, std::vector<std::string>{"bob@mx.test"});
  EXPECT_EQ(messages[0].envelope.helo, "client.test");
  EXPECT_EQ(messages[0].envelope.session_id, "r-000007");
  EXPECT_EQ(messages[0].envelope.peer, "192.0.2.1:4000");
  EXPECT_FALSE(messages[0].envelope.tls);
  // The transaction is over; a new one may start.
  EXPECT_TRUE(session->envelope().recipients.empty());
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");
  expect_reply(send("MAIL FROM:<>"), 250, "2.1.0");
}

TEST_F(SmtpSession, UnstuffsDots) {
  open_transaction();
  for (const char* line : {"..", "..hidden", "...three", "x.y", ". space"})
    send(line);
  expect_reply(send("."), 250, "2.0.0");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_EQ(handler.messages()[0].data, ".\r\n.hidden\r\n..three\r\nx.y\r\n space\r\n");
}

TEST_F(SmtpSession, PassesAnEmptyMessage) {
  open_transaction();
  expect_reply(send("."), 250, "2.0.0");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_EQ(handler.messages()[0].data, "");
}

TEST_F(SmtpSession, AcceptsNullPathAnd8BitMime) {
  send("EHLO client.test");
  expect_reply(send("MAIL FROM:<> BODY=8BITMIME SIZE=500"), 250, "2.1.0");
  send("RCPT TO:<bob@mx.test>");
  send("DATA");
  send("caf\xc3\xa9");
  send(".");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_EQ(handler.messages()[0].envelope.mail_from, "");
  EXPECT_EQ(handler.messages()[0].data, "caf\xc3\xa9\r\n");
}

TEST_F(SmtpSession, TwoMessagesInOneSession) {
  open_transaction();
  send("one");
  send(".");
  expect_reply(send("MAIL FROM:<carol@client.test>"), 250, "2.1.0");
  send("RCPT TO:<dave@mx.test>");
  send("DATA");
  send("two");
  send(".");
  const auto messages = handler.messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].envelope.mail_from, "carol@client.test");
  EXPECT_EQ(messages[1].envelope.recipients, std::vector<std::string>{"dave@mx.test"});
}

TEST_F(SmtpSession, RefusesCommandsOutOfSequence) {
  expect_reply(send("MAIL FROM:<alice@client.test>"), 503, "5.5.1");
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");
  expect_reply(send("DATA"), 503, "5.5.1");
  send("EHLO client.test");
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");
  expect_reply(send("DATA"), 503, "5.5.1");
  send("MAIL FROM:<alice@client.test>");
  expect_reply(send("MAIL FROM:<alice@client.test>"), 503, "5.5.1");
  expect_reply(send("DATA"), 554, "5.5.1");  // no valid recipients
  EXPECT_FALSE(session->reading_data());
}

TEST_F(SmtpSession, RsetAndEhloEndTheTransaction) {
  send("EHLO client.test");
  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  expect_reply(send("RSET"), 250, "2.0.0");
  EXPECT_TRUE(session->envelope().recipients.empty());
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");
  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  send("EHLO again.test");
  expect_reply(send("DATA"), 503, "5.5.1");
  EXPECT_EQ(session->envelope().helo, "again.test");
}

TEST_F(SmtpSession, SimpleCommands) {
  expect_reply(send("NOOP"), 250, "2.0.0");
  expect_reply(send("NOOP with text"), 250, "2.0.0");
  expect_reply(send("RSET"), 250, "2.0.0");
  expect_reply(send("VRFY bob"), 252, "2.0.0");
  expect_reply(send("EXPN staff"), 502, "5.5.1");
  const auto help = send("HELP");
  expect_reply(help, 214, "2.0.0");
  EXPECT_THAT(help.text.front(), HasSubstr("MAIL"));
  expect_reply(send("FOO bar"), 500, "5.5.1");
  expect_reply(send("EHLO"), 501, "5.5.4");
}

TEST_F(SmtpSession, QuitClosesAndLaterInputIsIgnored) {
  const auto bye = send("QUIT");
  expect_reply(bye, 221, "2.0.0");
  EXPECT_EQ(bye.action, session_action::close);
  EXPECT_TRUE(session->closed());
  const auto after = send("NOOP");
  EXPECT_FALSE(after.has_reply());
  EXPECT_EQ(after.action, session_action::close);
}

TEST_F(SmtpSession, MailParametersNeedEhlo) {
  send("HELO client.test");
  expect_reply(send("MAIL FROM:<alice@client.test> SIZE=10"), 555, "5.5.4");
  expect_reply(send("MAIL FROM:<alice@client.test>"), 250, "2.1.0");
}

TEST_F(SmtpSession, MailSizeOverTheLimitGets552) {
  send("EHLO client.test");
  const auto refused = send("MAIL FROM:<alice@client.test> SIZE=1001");
  expect_reply(refused, 552, "5.3.4");
  EXPECT_THAT(refused.text.front(), HasSubstr("1000"));
  EXPECT_EQ(refused.failure, "MESSAGE_TOO_BIG");
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");
  expect_reply(send("MAIL FROM:<alice@client.test> SIZE=1000"), 250, "2.1.0");
}

TEST_F(SmtpSession, UnknownParameterGets555) {
  send("EHLO client.test");
  expect_reply(send("MAIL FROM:<alice@client.test> SMTPUTF8"), 555, "5.5.4");
  expect_reply(send("MAIL FROM:alice@client.test"), 501, "5.5.2");
  expect_reply(send("MAIL FROM:<alice@@client.test>"), 501, "5.5.4");
}

TEST_F(SmtpSession, TooManyRecipientsGet452) {
  send("EHLO client.test");
  send("MAIL FROM:<alice@client.test>");
  expect_reply(send("RCPT TO:<unknown@mx.test>"), 550, "5.1.1");  // refusals do not count
  for (const char* address : {"<a@mx.test>", "<b@mx.test>", "<a@mx.test>", "<c@mx.test>"})
    expect_reply(send(std::string("RCPT TO:") + address), 250, "2.1.5");
  const auto refused = send("RCPT TO:<d@mx.test>");
  expect_reply(refused, 452, "4.5.3");
  EXPECT_EQ(refused.failure, "TOO_MANY_RECIPIENTS");
  EXPECT_EQ(session->envelope().recipients, (std::vector<std::string>{"a@mx.test", "b@mx.test", "c@mx.test"}));
  // The handler is not asked about a recipient beyond the limit.
  EXPECT_EQ(handler.checked_recipients().size(), 5u);
  expect_reply(send("DATA"), 354, "");
}

TEST_F(SmtpSession, PassesTheHandlersRecipientReplies) {
  send("EHLO client.test");
  send("MAIL FROM:<alice@client.test>");
  const auto unknown = send("RCPT TO:<unknown@mx.test>");
  EXPECT_EQ(unknown.wire(), "550 5.1.1 No such recipient here\r\n");
  EXPECT_EQ(unknown.failure, "") << "the handler counts its own refusals";
  EXPECT_FALSE(unknown.warning);
  EXPECT_THAT(unknown.event, HasSubstr("RCPT TO:<unknown@mx.test>: 550 5.1.1"));
  expect_reply(send("RCPT TO:<busy@mx.test>"), 451, "4.3.0");
  const auto failed = send("RCPT TO:<throw@mx.test>");
  expect_reply(failed, 451, "4.3.0");
  EXPECT_EQ(failed.failure, "HANDLER_ERROR");
  EXPECT_THAT(failed.event, HasSubstr("recipient lookup failed"));
  expect_reply(send("DATA"), 554, "5.5.1");
}

TEST_F(SmtpSession, MakesHandlerRepliesSafeToSend) {
  send("EHLO client.test");
  send("MAIL FROM:<alice@client.test>");
  const auto reply = send("RCPT TO:<badreply@mx.test>");
  EXPECT_EQ(reply.wire(), "250 2.0.0 line one  line two\r\n");
}

TEST_F(SmtpSession, PassesTheHandlersMessageRefusal) {
  open_transaction();
  send("REFUSE-ME");
  const auto refused = send(".");
  EXPECT_EQ(refused.wire(), "554 5.7.1 Encrypted messages are not accepted here\r\n");
  EXPECT_EQ(refused.failure, "") << "the handler counts its own refusals";
  EXPECT_FALSE(refused.warning);
  EXPECT_TRUE(refused.message_ended);
  EXPECT_THAT(refused.event, HasSubstr("message refused: 554 5.7.1"));

  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  send("DATA");
  send("DEFER-ME");
  const auto deferred = send(".");
  expect_reply(deferred, 451, "4.3.0");
  EXPECT_EQ(deferred.failure, "") << "the handler counts its own refusals";
  EXPECT_TRUE(deferred.warning);
  EXPECT_EQ(handler.accept_calls(), 2u);
}

// --- abuse cases -----------------------------------------------------------

TEST_F(SmtpSession, OverlongCommandGets500) {
  send("EHLO client.test");
  const auto refused = send_long("MAIL FROM:<" + std::string(600, 'a') + "@client.test>");
  expect_reply(refused, 500, "5.5.2");
  EXPECT_THAT(refused.text.front(), HasSubstr("512"));
  EXPECT_EQ(refused.failure, "LINE_TOO_LONG");
  EXPECT_EQ(refused.action, session_action::none);
  expect_reply(send("RCPT TO:<bob@mx.test>"), 503, "5.5.1");  // the MAIL was not taken
  expect_reply(send("NOOP"), 250, "2.0.0");
}

TEST_F(SmtpSession, BareLfCommandGets500) {
  const auto refused = send_bare("QUIT");
  expect_reply(refused, 500, "5.5.2");
  EXPECT_THAT(refused.text.front(), HasSubstr("CRLF"));
  EXPECT_EQ(refused.failure, "BARE_LINE_END");
  EXPECT_FALSE(session->closed());
  expect_reply(send("QUIT"), 221, "2.0.0");
}

TEST_F(SmtpSession, OverlongDataLineRejectsMessage) {
  make_session(false, 100000);
  open_transaction();
  EXPECT_FALSE(send("short").has_reply());
  EXPECT_FALSE(send_long(std::string(10000, 'x')).has_reply());
  EXPECT_FALSE(send("more").has_reply());
  const auto refused = send(".");
  expect_reply(refused, 550, "5.6.0");
  EXPECT_THAT(refused.text.front(), HasSubstr("998"));
  EXPECT_EQ(refused.failure, "LINE_TOO_LONG");
  EXPECT_TRUE(refused.message_ended);
  EXPECT_EQ(handler.accept_calls(), 0u);
  // The session stays usable.
  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  send("DATA");
  send(std::string(998, 'y'));
  expect_reply(send("."), 250, "2.0.0");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_EQ(handler.messages()[0].data, std::string(998, 'y') + "\r\n");
}

TEST_F(SmtpSession, BareLfInDataRejectsMessage) {
  open_transaction();
  send_bare("line with a bare LF");
  send("normal line");
  const auto refused = send(".");
  expect_reply(refused, 550, "5.6.0");
  EXPECT_EQ(refused.failure, "BARE_LINE_END");
  EXPECT_EQ(handler.accept_calls(), 0u);
  expect_reply(send("NOOP"), 250, "2.0.0");
}

TEST_F(SmtpSession, BareCrInDataRejectsMessage) {
  open_transaction();
  send("text\r.\r");
  expect_reply(send("."), 550, "5.6.0");
  EXPECT_EQ(handler.accept_calls(), 0u);
}

TEST_F(SmtpSession, DataEndsOnlyOnCrLfDot) {
  send("EHLO client.test");
  // An SMTP smuggling attempt: "<LF>.<CRLF>" and ".<LF>" followed by a second
  // transaction. Only the final CRLF.CRLF ends the data; the smuggled
  // commands are message text, and the message is refused.
  const auto replies = feed("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\n");
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies.back().code, 354);
  const auto after = feed(
      "Subject: first\r\n\r\nfirst\n.\r\nMAIL FROM:<evil@client.test>\r\nRCPT TO:<victim@mx.test>\r\nDATA\r\n"
      "smuggled\r\n.\nstill data\r\n.\r\n");
  ASSERT_EQ(after.size(), 1u);
  expect_reply(after[0], 550, "5.6.0");
  EXPECT_EQ(handler.accept_calls(), 0u);
  EXPECT_EQ(handler.checked_recipients(), std::vector<std::string>{"bob@mx.test"});
  EXPECT_FALSE(session->reading_data());
}

TEST_F(SmtpSession, DotWithBareLfDoesNotEndData) {
  open_transaction();
  EXPECT_FALSE(send_bare(".").has_reply());
  EXPECT_TRUE(session->reading_data());
  EXPECT_FALSE(send("x").has_reply());
  expect_reply(send("."), 550, "5.6.0");
}

TEST_F(SmtpSession, DataOverTheLimitIsDroppedAndGets552) {
  open_transaction();
  for (int i = 0; i < 50; ++i)
    EXPECT_FALSE(send(std::string(40, 'z')).has_reply());
  const auto refused = send(".");
  expect_reply(refused, 552, "5.3.4");
  EXPECT_THAT(refused.text.front(), HasSubstr("1000"));
  EXPECT_EQ(refused.failure, "MESSAGE_TOO_BIG");
  EXPECT_EQ(handler.accept_calls(), 0u);
  expect_reply(send("NOOP"), 250, "2.0.0");
}

TEST_F(SmtpSession, DataExactlyAtTheLimitIsAccepted) {
  open_transaction();
  // 1000 octets: ten lines of 98 octets, each with its CRLF.
  for (int i = 0; i < 10; ++i)
    send(std::string(98, 'a'));
  expect_reply(send("."), 250, "2.0.0");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_EQ(handler.messages()[0].data.size(), 1000u);

  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  send("DATA");
  for (int i = 0; i < 10; ++i)
    send(std::string(98, 'a'));
  send("b");
  expect_reply(send("."), 552, "5.3.4");
}

TEST_F(SmtpSession, SizeLimitTakesPrecedenceOverLineProblems) {
  open_transaction();
  send_bare("bare");
  send_long(std::string(2000, 'x'));
  for (int i = 0; i < 20; ++i)
    send(std::string(60, 'z'));
  expect_reply(send("."), 552, "5.3.4");
}

TEST_F(SmtpSession, PipeliningAllowedAfterEhlo) {
  const auto replies = feed("EHLO client.test\r\n");
  ASSERT_EQ(replies.size(), 1u);
  const auto batch =
      feed("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\nRCPT TO:<carol@mx.test>\r\nDATA\r\n");
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[3].code, 354);
  // The message content, its end and the next commands may come in one group.
  const auto rest = feed("Hello\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n");
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[0].code, 250);
  EXPECT_EQ(rest[3].code, 221);
  EXPECT_EQ(handler.messages().size(), 1u);
}

TEST_F(SmtpSession, EarlyInputAfterEhloRejected) {
  const auto replies = feed("EHLO client.test\r\nMAIL FROM:<alice@client.test>\r\n");
  ASSERT_EQ(replies.size(), 1u);
  expect_reply(replies[0], 554, "5.5.0");
  EXPECT_EQ(replies[0].action, session_action::close);
  EXPECT_EQ(replies[0].failure, "PIPELINING");
  EXPECT_TRUE(session->closed());
}

TEST_F(SmtpSession, EarlyInputAfterDataRejected) {
  feed("EHLO client.test\r\n");
  const auto replies = feed("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\nDATA\r\nSubject: early\r\n");
  ASSERT_EQ(replies.size(), 3u);
  expect_reply(replies[2], 554, "5.5.0");
  EXPECT_THAT(replies[2].text.front(), HasSubstr("DATA"));
  EXPECT_EQ(handler.accept_calls(), 0u);
}

TEST_F(SmtpSession, PipeliningAfterHeloIsRefused) {
  feed("HELO client.test\r\n");
  const auto replies = feed("MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\n");
  ASSERT_EQ(replies.size(), 1u);
  expect_reply(replies[0], 554, "5.5.0");
  EXPECT_THAT(replies[0].text.front(), HasSubstr("EHLO"));
  EXPECT_TRUE(session->closed());
}

TEST_F(SmtpSession, PipeliningBeforeAnyGreetingIsRefused) {
  expect_reply(send("NOOP", true), 554, "5.5.0");
}

TEST_F(SmtpSession, SynchronisingCommandsMustComeLast) {
  for (const char* command : {"HELO client.test", "EHLO client.test", "QUIT", "DATA"}) {
    make_session(true);
    send("EHLO client.test");
    const auto reply = send(command, true);
    expect_reply(reply, 554, "5.5.0");
    EXPECT_EQ(reply.action, session_action::close) << command;
  }
  make_session(true);
  send("EHLO client.test");
  expect_reply(send("STARTTLS", true), 554, "5.5.0");
}

TEST_F(SmtpSession, StartTlsWhenNotOffered) {
  send("EHLO client.test");
  expect_reply(send("STARTTLS"), 502, "5.5.1");
}

TEST_F(SmtpSession, StartTlsResetsTheSession) {
  make_session(true);
  expect_reply(send("STARTTLS"), 503, "5.5.1");  // EHLO first
  send("EHLO client.test");
  send("MAIL FROM:<alice@client.test>");
  expect_reply(send("STARTTLS"), 503, "5.5.1");  // in a transaction
  send("RSET");
  const auto ready = send("STARTTLS");
  EXPECT_EQ(ready.wire(), "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(ready.action, session_action::start_tls);

  session->tls_started();
  EXPECT_TRUE(session->tls_active());
  EXPECT_EQ(session->envelope().helo, "");
  EXPECT_FALSE(session->envelope().extended);
  expect_reply(send("MAIL FROM:<alice@client.test>"), 503, "5.5.1");  // EHLO forgotten
  send("EHLO client.test");
  expect_reply(send("STARTTLS"), 503, "5.5.1");  // already active
  send("MAIL FROM:<alice@client.test>");
  send("RCPT TO:<bob@mx.test>");
  send("DATA");
  send(".");
  ASSERT_EQ(handler.messages().size(), 1u);
  EXPECT_TRUE(handler.messages()[0].envelope.tls);
}

TEST_F(SmtpSession, TimeoutGets421) {
  const auto reply = session->timed_out();
  expect_reply(reply, 421, "4.4.2");
  EXPECT_EQ(reply.action, session_action::close);
  EXPECT_EQ(reply.failure, "TIMEOUT");
  EXPECT_TRUE(session->closed());
}

TEST_F(SmtpSession, TimeoutInDataDropsTheMessage) {
  open_transaction();
  send("half a message");
  const auto reply = session->timed_out();
  expect_reply(reply, 421, "4.4.2");
  EXPECT_THAT(reply.event, HasSubstr("message dropped"));
  EXPECT_EQ(handler.accept_calls(), 0u);
}

TEST_F(SmtpSession, TooManyErrorsClose) {
  for (int i = 0; i < 20; ++i)
    expect_reply(send("BOGUS"), 500, "5.5.1");
  const auto last = send("BOGUS");
  expect_reply(last, 421, "4.7.0");
  EXPECT_EQ(last.action, session_action::close);
  EXPECT_EQ(last.failure, "TOO_MANY_ERRORS");
}

TEST_F(SmtpSession, RepliesCarryEnhancedStatusCodes) {
  make_session(true);
  for (const char* line : {"NOOP", "FOO", "MAIL FROM:<a@b.test>", "HELO x", "EHLO client.test",
                           "MAIL FROM:<a@b.test> SIZE=5000", "MAIL FROM:<a@b.test>", "MAIL FROM:<a@b.test>",
                           "RCPT TO:<unknown@mx.test>", "RCPT TO:<b@mx.test>", "RCPT TO:<>", "VRFY x", "EXPN y",
                           "HELP", "DATA", "x", ".", "DATA", "RSET", "STARTTLS x", "MAIL FROM:<a@b.test> X=1"})
    send(line);
  send_bare("NOOP");
  send_long(std::string(600, 'n'));
  send("STARTTLS");
  session->tls_started();
  send("QUIT");
  EXPECT_GE(outputs.size(), 25u);
  for (const auto& output : outputs) {
    if (!output.has_reply())
      continue;
    const bool exempt = output.code == 354 || output.code == 220 ||
                        (output.code == 250 && output.text.front() == "mx.test");
    if (exempt)
      continue;
    ASSERT_FALSE(output.status.empty()) << output.wire();
    EXPECT_EQ(output.status[0] - '0', output.code / 100) << output.wire();
    EXPECT_EQ(output.wire().substr(4, output.status.size()), output.status);
  }
}

TEST_F(SmtpSession, EventsOmitTheBody) {
  open_transaction();
  send("SECRET-BODY-TEXT");
  send(".");
  std::string all_events;
  for (const auto& output : outputs)
    all_events += output.event + "\n";
  EXPECT_THAT(all_events, HasSubstr("MAIL FROM:<alice@client.test>: 250 2.1.0"));
  EXPECT_THAT(all_events, HasSubstr("RCPT TO:<bob@mx.test>: 250 2.1.5"));
  EXPECT_THAT(all_events, HasSubstr("message accepted: 250 2.0.0 Queued as m1 (18 octets, 1 recipient)"));
  EXPECT_THAT(all_events, Not(HasSubstr("SECRET")));
}

TEST_F(SmtpSession, EventsClipLongPeerText) {
  send("EHLO " + std::string(400, 'h'));
  EXPECT_LT(outputs.back().event.size(), 120u);
}

} // namespace
