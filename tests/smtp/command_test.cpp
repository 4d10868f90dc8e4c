// The SMTP command parser: verbs, arguments, paths, ESMTP parameters and the
// reply for every kind of malformed line.
#include "runtime/smtp/command.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace {

using namespace router::smtp;

/// Expects `line` to fail with this code and status, and returns the reply text.
std::string expect_error(const std::string& line, int code, const std::string& status) {
  const command parsed = parse_command(line);
  EXPECT_TRUE(parsed.error.has_value()) << line;
  if (!parsed.error)
    return "";
  EXPECT_EQ(parsed.error->code, code) << line << ": " << parsed.error->text;
  EXPECT_EQ(parsed.error->status, status) << line << ": " << parsed.error->text;
  return parsed.error->text;
}

command expect_valid(const std::string& line) {
  command parsed = parse_command(line);
  EXPECT_FALSE(parsed.error.has_value()) << line << ": " << (parsed.error ? parsed.error->text : "");
  return parsed;
}

TEST(SmtpCommand, RecognisesEveryVerbWithoutRegardToCase) {
  EXPECT_EQ(expect_valid("EHLO client.example").name, verb::ehlo);
  EXPECT_EQ(expect_valid("ehlo client.example").name, verb::ehlo);
  EXPECT_EQ(expect_valid("HeLo client.example").name, verb::helo);
  EXPECT_EQ(expect_valid("MAIL FROM:<a@example.com>").name, verb::mail);
  EXPECT_EQ(expect_valid("rcpt to:<b@example.com>").name, verb::rcpt);
  EXPECT_EQ(expect_valid("DATA").name, verb::data);
  EXPECT_EQ(expect_valid("RSET").name, verb::rset);
  EXPECT_EQ(expect_valid("NOOP").name, verb::noop);
  EXPECT_EQ(expect_valid("QUIT").name, verb::quit);
  EXPECT_EQ(expect_valid("VRFY someone").name, verb::vrfy);
  EXPECT_EQ(expect_valid("EXPN list").name, verb::expn);
  EXPECT_EQ(expect_valid("HELP").name, verb::help);
  EXPECT_EQ(expect_valid("StartTLS").name, verb::starttls);
}

TEST(SmtpCommand, SplitsVerbAndArgument) {
  EXPECT_EQ(expect_valid("EHLO client.example").argument, "client.example");
  EXPECT_EQ(expect_valid("EHLO [192.0.2.7]").argument, "[192.0.2.7]");
  EXPECT_EQ(expect_valid("NOOP anything at all").argument, "anything at all");
  EXPECT_EQ(expect_valid("HELP MAIL").argument, "MAIL");
  EXPECT_EQ(expect_valid("QUIT").argument, "");
}

TEST(SmtpCommand, ToleratesTrailingSpaces) {
  EXPECT_EQ(expect_valid("QUIT  ").name, verb::quit);
  EXPECT_EQ(expect_valid("EHLO host.example ").argument, "host.example");
  EXPECT_EQ(expect_valid("MAIL FROM:<a@example.com> ").address, "a@example.com");
}

TEST(SmtpCommand, UnknownVerbsGet500) {
  expect_error("XYZZY", 500, "5.5.1");
  expect_error("MAILFROM:<a@example.com>", 500, "5.5.1");
  expect_error("GET / HTTP/1.1", 500, "5.5.1");
  expect_error("AUTH PLAIN AGFiYwBkZWY=", 500, "5.5.1");
  expect_error("BDAT 100 LAST", 500, "5.5.1");
  expect_error(" NOOP", 500, "5.5.1");
  EXPECT_EQ(parse_command("XYZZY").name, verb::unknown);
}

TEST(SmtpCommand, EmptyLinesAndControlCharactersAreSyntaxErrors) {
  expect_error("", 500, "5.5.2");
  expect_error("   ", 500, "5.5.2");
  expect_error("NOOP\tx", 500, "5.5.2");
  expect_error(std::string("NOOP \0x", 7), 500, "5.5.2");
  expect_error("NOOP\r", 500, "5.5.2");
  expect_error("QUIT\x7f", 500, "5.5.2");
  // The verb is still known, for the pipelining check and the logs.
  EXPECT_EQ(parse_command("QUIT\r").name, verb::quit);
}

TEST(SmtpCommand, EhloAndHeloNeedOneHostName) {
  EXPECT_NE(expect_error("EHLO", 501, "5.5.4").find("EHLO"), std::string::npos);
  expect_error("HELO", 501, "5.5.4");
  expect_error("EHLO two words", 501, "5.5.4");
  expect_error("EHLO caf\xc3\xa9.example", 501, "5.5.4");
}

TEST(SmtpCommand, CommandsWithoutArgumentsRefuseOne) {
  expect_error("DATA now", 501, "5.5.4");
  expect_error("RSET all", 501, "5.5.4");
  expect_error("QUIT please", 501, "5.5.4");
  expect_error("STARTTLS now", 501, "5.5.4");
  expect_error("VRFY", 501, "5.5.4");
  expect_error("EXPN", 501, "5.5.4");
}

TEST(SmtpCommand, ParsesMailPathAndNullReversePath) {
  const auto mail = expect_valid("MAIL FROM:<alice@example.com>");
  EXPECT_EQ(mail.address, "alice@example.com");
  EXPECT_FALSE(mail.has_parameters);
  EXPECT_FALSE(mail.size.has_value());
  EXPECT_EQ(mail.body, body_type::unspecified);

  const auto null_path = expect_valid("MAIL FROM:<>");
  EXPECT_EQ(null_path.address, "");
  EXPECT_EQ(expect_valid("mail from:<>").address, "");
}

TEST(SmtpCommand, AcceptsASpaceAfterTheColon) {
  EXPECT_EQ(expect_valid("MAIL FROM: <alice@example.com>").address, "alice@example.com");
  EXPECT_EQ(expect_valid("RCPT TO: <bob@example.com>").address, "bob@example.com");
}

TEST(SmtpCommand, StripsSourceRoutes) {
  EXPECT_EQ(expect_valid("RCPT TO:<@relay.example,@hop.example:bob@example.com>").address, "bob@example.com");
  EXPECT_EQ(expect_valid("MAIL FROM:<@relay.example:alice@example.com>").address, "alice@example.com");
  expect_error("RCPT TO:<@relay.example bob@example.com>", 501, "5.5.4");
  expect_error("RCPT TO:<@relay.example,:bob@example.com>", 501, "5.5.4");
  expect_error("RCPT TO:<@:bob@example.com>", 501, "5.5.4");
}

TEST(SmtpCommand, AcceptsQuotedLocalPartsAndAddressLiterals) {
  EXPECT_EQ(expect_valid("RCPT TO:<\"john doe\"@example.com>").address, "\"john doe\"@example.com");
  EXPECT_EQ(expect_valid("RCPT TO:<\"a>b\"@example.com>").address, "\"a>b\"@example.com");
  EXPECT_EQ(expect_valid("RCPT TO:<\"a\\\"b\"@example.com>").address, "\"a\\\"b\"@example.com");
  EXPECT_EQ(expect_valid("RCPT TO:<user@[192.0.2.1]>").address, "user@[192.0.2.1]");
  EXPECT_EQ(expect_valid("RCPT TO:<user@[IPv6:2001:db8::1]>").address, "user@[IPv6:2001:db8::1]");
  EXPECT_EQ(expect_valid("RCPT TO:<first.last+tag@sub.example.com>").address, "first.last+tag@sub.example.com");
}

TEST(SmtpCommand, AcceptsPostmasterWithoutDomainAsRecipientOnly) {
  EXPECT_EQ(expect_valid("RCPT TO:<Postmaster>").address, "Postmaster");
  expect_error("MAIL FROM:<postmaster>", 501, "5.5.4");
  expect_error("RCPT TO:<bob>", 501, "5.5.4");
}

TEST(SmtpCommand, MalformedPathsGet501) {
  expect_error("MAIL", 501, "5.5.2");
  expect_error("MAIL TO:<a@example.com>", 501, "5.5.2");
  expect_error("MAIL FROM:", 501, "5.5.2");
  expect_error("MAIL FROM:a@example.com", 501, "5.5.2");
  expect_error("MAIL FROM:<a@example.com", 501, "5.5.2");
  expect_error("MAIL FROM:<a@example.com>SIZE=10", 501, "5.5.2");
  expect_error("RCPT", 501, "5.5.2");
  expect_error("RCPT FROM:<a@example.com>", 501, "5.5.2");
  expect_error("RCPT TO:b@example.com", 501, "5.5.2");
}

TEST(SmtpCommand, InvalidMailboxesGet501WithStatus554) {
  expect_error("RCPT TO:<>", 501, "5.5.4");
  expect_error("RCPT TO:<@example.com>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@exa mple.com>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@example..com>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@example.com.>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@under_score.example>", 501, "5.5.4");
  expect_error("RCPT TO:<bo b@example.com>", 501, "5.5.4");
  expect_error("RCPT TO:<bob(comment)@example.com>", 501, "5.5.4");
  expect_error("RCPT TO:<\"unterminated@example.com>", 501, "5.5.2");
  expect_error("RCPT TO:<bob@[192.0.2.1>", 501, "5.5.4");
  expect_error("RCPT TO:<bob@" + std::string(64, 'l') + ".example>", 501, "5.5.4");
  EXPECT_NE(expect_error("RCPT TO:<j\xc3\xbcrgen@example.com>", 501, "5.5.4").find("SMTPUTF8"), std::string::npos);
}

TEST(SmtpCommand, RefusesOverlongPaths) {
  const std::string local(64, 'l');
  std::string domain;
  while (domain.size() < 200)
    domain += std::string(40, 'd') + ".";
  domain += "example";
  const std::string address = local + "@" + domain;
  ASSERT_GT(address.size(), max_path_length);
  expect_error("RCPT TO:<" + address + ">", 501, "5.5.4");
}

TEST(SmtpCommand, ParsesSizeAndBodyParameters) {
  const auto mail = expect_valid("MAIL FROM:<a@example.com> SIZE=12345 BODY=8BITMIME");
  EXPECT_TRUE(mail.has_parameters);
  ASSERT_TRUE(mail.size.has_value());
  EXPECT_EQ(*mail.size, 12345u);
  EXPECT_EQ(mail.body, body_type::eight_bit_mime);

  const auto lower = expect_valid("MAIL FROM:<> size=0 body=7bit");
  EXPECT_EQ(*lower.size, 0u);
  EXPECT_EQ(lower.body, body_type::seven_bit);

  EXPECT_EQ(expect_valid("MAIL FROM:<a@example.com>  SIZE=1").size, 1u);
}

TEST(SmtpCommand, HugeSizesSaturate) {
  const auto mail = expect_valid("MAIL FROM:<a@example.com> SIZE=99999999999999999999999999999");
  EXPECT_EQ(*mail.size, std::numeric_limits<uint64_t>::max());
}

TEST(SmtpCommand, UnknownParametersGet555) {
  expect_error("MAIL FROM:<a@example.com> SMTPUTF8", 555, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> RET=HDRS", 555, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> AUTH=<>", 555, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> BODY=BINARYMIME", 555, "5.5.4");
  EXPECT_NE(expect_error("RCPT TO:<b@example.com> NOTIFY=NEVER", 555, "5.5.4").find("NOTIFY"), std::string::npos);
  // RCPT has no SIZE.
  expect_error("RCPT TO:<b@example.com> SIZE=10", 555, "5.5.4");
}

TEST(SmtpCommand, MalformedParametersGet501) {
  expect_error("MAIL FROM:<a@example.com> SIZE=", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> SIZE=12k", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> SIZE=-1", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> SIZE", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> SIZE=1 SIZE=2", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> BODY=7BIT BODY=8BITMIME", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> BODY", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> =5", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> -X=1", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> SIZE=1=2", 501, "5.5.4");
  expect_error("MAIL FROM:<a@example.com> X=\xff", 501, "5.5.4");
}

TEST(SmtpCommand, VerbOfReadsBrokenLines) {
  EXPECT_EQ(verb_of("DATA"), verb::data);
  EXPECT_EQ(verb_of("data extra"), verb::data);
  EXPECT_EQ(verb_of("EHLO"), verb::ehlo);
  EXPECT_EQ(verb_of("STARTTLS"), verb::starttls);
  EXPECT_EQ(verb_of("DATAX"), verb::unknown);
  EXPECT_EQ(verb_of("QUIT\r"), verb::quit);
  EXPECT_EQ(verb_of("MAIL:FROM:<a@b>"), verb::unknown);
  EXPECT_EQ(verb_of("MAIL1"), verb::unknown);
  EXPECT_EQ(verb_of(""), verb::unknown);
  EXPECT_STREQ(verb_name(verb::rcpt), "RCPT");
}

TEST(SmtpCommand, ValidMailbox) {
  EXPECT_TRUE(valid_mailbox("a@b"));
  EXPECT_TRUE(valid_mailbox("a.b-c_d@x-y.example"));
  EXPECT_TRUE(valid_mailbox("\"quoted@at\"@example.com"));
  EXPECT_FALSE(valid_mailbox("noat"));
  EXPECT_FALSE(valid_mailbox("@example.com"));
  EXPECT_FALSE(valid_mailbox("a@-"));
  EXPECT_FALSE(valid_mailbox(""));
  EXPECT_FALSE(valid_mailbox("...@example.com"));
}

} // namespace
