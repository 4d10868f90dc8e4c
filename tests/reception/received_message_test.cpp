// Splitting received messages and taking their content entity byte for byte,
// and the Subject and From values the reception jobs take from them.
#include "runtime/mime/mime.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/reception/message_fields.hpp"

#include <gtest/gtest.h>

namespace router::testing {
namespace {

TEST(received_message_test, SplitKeepsRawFoldedFields) {
  const std::string message =
      "From: a@example.org\r\n"
      "Content-Type: multipart/mixed;\r\n"
      "\tboundary=\"b1\"\r\n"
      "Subject: two\r\n  lines\r\n"
      "\r\n"
      "body\r\n";
  const auto parts = mime::split_received_message(message);

  ASSERT_EQ(parts.fields.size(), 3u);
  EXPECT_EQ(parts.fields[1].name, "Content-Type");
  EXPECT_EQ(parts.fields[1].raw, "Content-Type: multipart/mixed;\r\n\tboundary=\"b1\"\r\n");
  EXPECT_EQ(parts.fields[1].value, "multipart/mixed;\tboundary=\"b1\"");
  EXPECT_EQ(parts.field("subject"), "two  lines");
  EXPECT_EQ(parts.body, "body\r\n");
  EXPECT_TRUE(parts.body_after_empty_line);
}

TEST(received_message_test, NonFieldLineStartsBody) {
  const auto parts = mime::split_received_message("Subject: x\r\nthis is no field\r\nmore\r\n");

  ASSERT_EQ(parts.fields.size(), 1u);
  EXPECT_EQ(parts.body, "this is no field\r\nmore\r\n");
  EXPECT_FALSE(parts.body_after_empty_line);
}

TEST(received_message_test, MessageWithoutHeaderIsAllBody) {
  const auto parts = mime::split_received_message(" leading space\r\n");

  EXPECT_TRUE(parts.fields.empty());
  EXPECT_EQ(parts.body, " leading space\r\n");
}

TEST(received_message_test, ContentEntityKeepsContentFieldsAndBody) {
  const std::string content_fields =
      "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
      "  micalg=sha-256; boundary=\"----S\"\r\n"
      "content-transfer-encoding: 7bit\r\n"
      "Content-Disposition: inline\r\n"
      "Content-ID: <part1@example.org>\r\n"
      "Content-Description: scanned\r\n"
      "   document\r\n"
      "Content-Language: en\r\n"
      "Content-Features: (image-file-structure=TIFF-minimal)\r\n";
  const std::string body = "------S\r\nbody\r\n------S--\r\n";
  // Other fields sit between the content fields and are left out.
  const size_t split = content_fields.find("Content-Disposition");
  const std::string message = "Received: from x\r\nFrom: a@example.org\r\n" + content_fields.substr(0, split) +
                              "X-Mailer: y\r\n" + content_fields.substr(split) + "MIME-Version: 1.0\r\n\r\n" + body;

  EXPECT_EQ(mime::received_content_entity(message), content_fields + "\r\n" + body);
}

TEST(received_message_test, MissingContentTypeBecomesTextPlain) {
  const std::string message = "From: a@example.org\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xC3\xBC\xC3\x9F\x65\r\n";

  EXPECT_EQ(mime::received_content_entity(message),
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xC3\xBC\xC3\x9F\x65\r\n");
}

TEST(received_message_test, EightBitBodyKeepsItsBytes) {
  std::string body = "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n";
  for (int octet = 0x80; octet <= 0xFF; ++octet)
    body += static_cast<char>(octet);
  body += "\r\n";

  EXPECT_EQ(mime::received_content_entity("Subject: x\r\n" + body), body);
}

TEST(received_message_test, EntityWithoutEmptyLineGetsOne) {
  EXPECT_EQ(mime::received_content_entity("Content-Type: text/plain\r\nnot a field\r\n"),
            "Content-Type: text/plain\r\n\r\nnot a field\r\n");
  EXPECT_EQ(mime::received_content_entity("Content-Type: text/plain"), "Content-Type: text/plain\r\n\r\n");
}

TEST(received_message_test, LoneLineBreaksAreFound) {
  EXPECT_EQ(mime::find_lone_line_break("a\r\nb\r\n"), std::string::npos);
  EXPECT_EQ(mime::find_lone_line_break("a\nb"), 1u);
  EXPECT_EQ(mime::find_lone_line_break("ab\rc\r\n"), 2u);
  EXPECT_EQ(mime::find_lone_line_break("\r"), 0u);
}

TEST(received_message_test, SubjectEncodedWordsAreDecoded) {
  EXPECT_EQ(reception::readable_subject("Plain subject"), "Plain subject");
  EXPECT_EQ(reception::readable_subject("=?UTF-8?B?U2NhbiDDvGJlcg==?="), "Scan \xC3\xBC" "ber");
  EXPECT_EQ(reception::readable_subject("=?iso-8859-1?q?Gr=FC=DFe_aus?= Wien"), "Gr\xC3\xBC\xC3\x9F" "e aus Wien");
  // White space between adjacent encoded-words is dropped (RFC 2047 section 6.2).
  EXPECT_EQ(reception::readable_subject("=?utf-8?q?a?= =?utf-8?q?b?= c"), "ab c");
}

TEST(received_message_test, SubjectBadBytesAreReplaced) {
  EXPECT_EQ(reception::readable_subject("bad \xFF byte"), "bad ? byte");
  EXPECT_EQ(reception::readable_subject("tab\there"), "tab here");
  EXPECT_EQ(reception::readable_subject("=?utf-8?b?/w==?="), "?");
  // Unknown charsets and broken words stay as they are.
  EXPECT_EQ(reception::readable_subject("=?shift_jis?B?gqA=?="), "=?shift_jis?B?gqA=?=");
  EXPECT_EQ(reception::readable_subject("=?utf-8?x?abc?= =?"), "=?utf-8?x?abc?= =?");
}

TEST(received_message_test, FromAddressIsExtracted) {
  EXPECT_EQ(reception::from_address("Alice Example <alice@example.org>"), "alice@example.org");
  EXPECT_EQ(reception::from_address(" alice@example.org "), "alice@example.org");
  EXPECT_EQ(reception::from_address("\"Doe, Jane\" <jane@example.org>"), "jane@example.org");
  EXPECT_EQ(reception::from_address("undisclosed"), "");
  EXPECT_EQ(reception::from_address(""), "");
}

smtp::received_envelope trace_envelope(std::vector<std::string> recipients) {
  smtp::received_envelope envelope;
  envelope.session_id = "r-000042";
  envelope.peer = "192.0.2.7:53412";
  envelope.helo = "client.example";
  envelope.extended = true;
  envelope.recipients = std::move(recipients);
  return envelope;
}

// 2026-12-05T01:50:00Z
constexpr int64_t trace_time = 1796435400;

TEST(received_field_test, SingleRecipientGetsForClause) {
  const std::string field =
      reception::received_field(trace_envelope({"alice@device.example.com"}), "device.example.com", trace_time);

  EXPECT_EQ(field,
            "Received: from client.example ([192.0.2.7])\r\n"
            "\tby device.example.com with ESMTP id r-000042\r\n"
            "\tfor <alice@device.example.com>; Sat, 05 Dec 2026 01:50:00 +0000\r\n");
  EXPECT_TRUE(mime::is_trace_field(field));
}

TEST(received_field_test, TlsAndIpv6AndSeveralRecipients) {
  auto envelope = trace_envelope({"a@device.example.com", "b@device.example.com"});
  envelope.tls = true;
  envelope.peer = "[2001:db8::7]:53412";
  envelope.helo = "[IPv6:2001:db8::7]";

  const std::string field = reception::received_field(envelope, "device.example.com", trace_time);

  EXPECT_EQ(field,
            "Received: from [IPv6:2001:db8::7] ([IPv6:2001:db8::7])\r\n"
            "\tby device.example.com with ESMTPS id r-000042; Sat, 05 Dec 2026 01:50:00 +0000\r\n");
  EXPECT_TRUE(mime::is_trace_field(field));
}

TEST(received_field_test, OddClientValuesAreLeftOut) {
  auto envelope = trace_envelope({"alice@device.example.com"});
  envelope.helo = "my laptop (home)";
  envelope.peer = "not-an-address";

  const std::string field = reception::received_field(envelope, "bad host name", trace_time);

  EXPECT_EQ(field.rfind("Received: from unknown\r\n\tby localhost with ESMTP id r-000042\r\n", 0), 0u) << field;
  EXPECT_TRUE(mime::is_trace_field(field));
}

TEST(received_field_test, HeloGivesSmtp) {
  auto envelope = trace_envelope({"alice@device.example.com"});
  envelope.extended = false;

  const std::string field = reception::received_field(envelope, "device.example.com", trace_time);

  EXPECT_NE(field.find("\tby device.example.com with SMTP id r-000042\r\n"), std::string::npos) << field;
}

TEST(received_field_test, InvalidEhloNamesBecomeUnknown) {
  for (const std::string name : {"[foo]", "a..b", "host-", "-host", ".host", "[IPv6:zz::1]", "[300.1.2.3]", ""}) {
    auto envelope = trace_envelope({"alice@device.example.com"});
    envelope.helo = name;

    const std::string field = reception::received_field(envelope, "device.example.com", trace_time);

    EXPECT_EQ(field.rfind("Received: from unknown ([192.0.2.7])\r\n", 0), 0u) << name << ": " << field;
  }
  for (const std::string name : {"mail-1.example.org", "[192.0.2.7]", "[IPv6:2001:db8::7]", "localhost"}) {
    auto envelope = trace_envelope({"alice@device.example.com"});
    envelope.helo = name;

    const std::string field = reception::received_field(envelope, "device.example.com", trace_time);

    EXPECT_EQ(field.rfind("Received: from " + name + " ([192.0.2.7])\r\n", 0), 0u) << name << ": " << field;
  }
}

TEST(trace_field_test, WholeFoldedFieldsOnly) {
  EXPECT_TRUE(mime::is_trace_field("Received: from a\r\n\tby b; date\r\n"));
  EXPECT_TRUE(mime::is_trace_field("received: from a by b; date\r\n"));
  EXPECT_FALSE(mime::is_trace_field("Received: from a\r\nFrom: x\r\n")) << "a second field";
  EXPECT_FALSE(mime::is_trace_field("Received: from a"));
  EXPECT_FALSE(mime::is_trace_field("Received: from a\n"));
  EXPECT_FALSE(mime::is_trace_field("Received: from a\rb\r\n"));
  EXPECT_FALSE(mime::is_trace_field("Subject: from a\r\n"));
  EXPECT_FALSE(mime::is_trace_field("Received:\r\n"));
}

} // namespace
} // namespace router::testing
