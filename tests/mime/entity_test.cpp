// Document, multipart/signed and application/pkcs7-mime entities and whole
// messages. Structure and decoded bodies are checked with Python's email
// package, which parses independently of our builders.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/mime/mime_test_support.hpp"

namespace router::mime {
namespace {

using router::testing::contains_line;
using router::testing::crlf_lines;
using router::testing::has_lone_cr_or_lf;
using router::testing::header_block;
using router::testing::longest_crlf_line;
using router::testing::parse_with_python;
using router::testing::scratch_dir;

constexpr const char* boundary = "=_router_test_7f3a9c";

std::vector<uint8_t> sample_bytes(size_t count, unsigned seed) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i)
    bytes[i] = static_cast<uint8_t>((i * 131 + seed) % 256);
  return bytes;
}

std::string as_string(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

message_headers sample_headers() {
  message_headers headers;
  headers.from = "Printer Room 3 <mfp-3@example.com>";
  headers.to = {"alice@example.com"};
  headers.subject = "Quarterly maintenance report";
  headers.date = format_date(1796413380);
  headers.message_id = "<20261204194300.1@mfp-3.example.com>";
  return headers;
}

/// Returns the message of the router_error thrown by `build`, or "" when none is.
template <typename Build>
std::string error_message(Build build) {
  try {
    build();
  } catch (const router_error& error) {
    return error.what();
  }
  return "";
}

TEST(mime_document_entity_test, AsciiTextIsPlain7bit) {
  const std::string entity = build_document_entity("Toner replaced.\r\n", {}, boundary);

  EXPECT_EQ(entity,
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n"
            "\r\n"
            "Toner replaced.\r\n");
}

TEST(mime_document_entity_test, BareLfTextGetsCrlf) {
  const std::string entity = build_document_entity("line one\nline two\n", {}, boundary);

  EXPECT_FALSE(has_lone_cr_or_lf(entity));
  EXPECT_NE(entity.find("\r\n\r\nline one\r\nline two\r\n"), std::string::npos);
}

TEST(mime_document_entity_test, CrlfTextNeverGetsCrCrLf) {
  const std::string entity = build_document_entity("line one\r\nline two\r\n", {}, boundary);

  EXPECT_EQ(entity.find("\r\r\n"), std::string::npos);
  EXPECT_FALSE(has_lone_cr_or_lf(entity));
}

TEST(mime_document_entity_test, MissingFinalLineBreakIsAdded) {
  const std::string entity = build_document_entity("no final break", {}, boundary);

  EXPECT_EQ(entity.substr(entity.size() - 16), "no final break\r\n");
}

TEST(mime_document_entity_test, LongLineIsSentQuotedPrintable) {
  const std::string long_line(1200, 'L');
  const std::string text = "short line\r\n" + long_line + "\r\nlast line\r\n";
  const std::string entity = build_document_entity(text, {}, boundary);

  EXPECT_NE(header_block(entity).find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
  EXPECT_LE(longest_crlf_line(entity), 998u);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "defects 0")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 text/plain quoted-printable -")) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(0), text);
}

TEST(mime_document_entity_test, LongLineWithAttachmentStaysUnder998) {
  const std::string text = std::string(1200, 'L') + "\r\n";
  const attachment file{"page.tif", "image/tiff", sample_bytes(3000, 1)};
  const std::string entity = build_document_entity(text, {file}, boundary);

  EXPECT_LE(longest_crlf_line(entity), 998u);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 1 text/plain quoted-printable -")) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(1), text);
  EXPECT_EQ(parsed.decoded_part(2), as_string(file.data));
}

TEST(mime_document_entity_test, NonAsciiTextIsQuotedPrintable) {
  const std::string text = "Gr\xC3\xBC\xC3\x9F" "e aus dem Druckerraum\r\n";
  const std::string entity = build_document_entity(text, {}, boundary);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 text/plain quoted-printable -")) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(0), text);
}

TEST(mime_document_entity_test, MultipartPartsDecodeToInputs) {
  const std::string text = "Scanned documents attached.\r\n";
  const attachment pdf{"report.pdf", "application/pdf", sample_bytes(5000, 3)};
  const attachment tiff{"fax page 1.tif", "image/tiff", sample_bytes(2048, 5)};
  const std::string entity = build_document_entity(text, {pdf, tiff}, boundary);

  EXPECT_LE(longest_crlf_line(entity), 998u);
  EXPECT_FALSE(has_lone_cr_or_lf(entity));

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "defects 0")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 multipart/mixed - -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, std::string("param 0 boundary=") + boundary)) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 1 text/plain 7bit -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 application/pdf base64 report.pdf")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "param 2 name=report.pdf")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 3 image/tiff base64 fax page 1.tif")) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(1), text);
  EXPECT_EQ(parsed.decoded_part(2), as_string(pdf.data));
  EXPECT_EQ(parsed.decoded_part(3), as_string(tiff.data));
}

TEST(mime_document_entity_test, AttachmentHeadersNameTheFile) {
  const attachment pdf{"report.pdf", "application/pdf", sample_bytes(10, 3)};
  const std::string entity = build_document_entity("See attachment.\r\n", {pdf}, boundary);

  const std::string part_headers =
      "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
      "\r\n";
  EXPECT_NE(entity.find(part_headers), std::string::npos) << entity;
  EXPECT_EQ(entity.find("Content-Type: multipart/mixed; boundary=\"" + std::string(boundary) + "\"\r\n"), 0u);
}

TEST(mime_document_entity_test, NonAsciiFilenameUsesRfc2231) {
  const std::string filename = "Pr\xC3\xBC" "fbericht M\xC3\xA4rz.pdf";
  const attachment pdf{filename, "application/pdf", sample_bytes(100, 9)};
  const std::string entity = build_document_entity("Report attached.\r\n", {pdf}, boundary);

  EXPECT_NE(entity.find("filename*=utf-8''Pr%C3%BCfbericht%20M%C3%A4rz.pdf"), std::string::npos) << entity;
  EXPECT_NE(entity.find("name*=utf-8''Pr%C3%BCfbericht%20M%C3%A4rz.pdf"), std::string::npos) << entity;

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 application/pdf base64 " + filename)) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "param 2 name=" + filename)) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(2), as_string(pdf.data));
}

TEST(mime_document_entity_test, LongFilenameUsesContinuations) {
  std::string filename;
  for (int i = 0; i < 30; ++i)
    filename += "\xC3\xA9t\xC3\xA9 ";
  filename += "r\xC3\xA9sum\xC3\xA9.pdf";
  const attachment pdf{filename, "application/pdf", sample_bytes(100, 11)};
  const std::string entity = build_document_entity("Report attached.\r\n", {pdf}, boundary);

  EXPECT_NE(entity.find("filename*0*=utf-8''"), std::string::npos) << entity;
  EXPECT_NE(entity.find("filename*1*="), std::string::npos) << entity;
  for (const std::string& line : crlf_lines(header_block(entity.substr(entity.find("Content-Type: application")))))
    EXPECT_LE(line.size(), 78u) << line;

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 application/pdf base64 " + filename)) << parsed.listing;
}

TEST(mime_document_entity_test, FilenameQuotesAreEscaped) {
  const std::string filename = "say \"hi\" \\ bye.txt";
  const attachment note{filename, "text/plain", sample_bytes(20, 13)};
  const std::string entity = build_document_entity("Note attached.\r\n", {note}, boundary);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 text/plain base64 " + filename)) << parsed.listing;
}

TEST(mime_document_entity_test, FilenameWithLineBreakIsRejected) {
  const attachment evil{"a.pdf\r\nBcc: someone@example.com", "application/pdf", sample_bytes(10, 1)};

  const std::string message = error_message([&] { build_document_entity("x\r\n", {evil}, boundary); });

  EXPECT_NE(message.find("attachment file name"), std::string::npos) << message;
}

TEST(mime_document_entity_test, ContentTypeWithLineBreakIsRejected) {
  const attachment evil{"a.pdf", "application/pdf\r\nX-Injected: 1", sample_bytes(10, 1)};

  const std::string message = error_message([&] { build_document_entity("x\r\n", {evil}, boundary); });

  EXPECT_NE(message.find("content type of attachment \"a.pdf\""), std::string::npos) << message;
}

TEST(mime_document_entity_test, ContentTypeWithoutSubtypeIsRejected) {
  const attachment file{"a.pdf", "pdf", sample_bytes(10, 1)};

  EXPECT_THROW(build_document_entity("x\r\n", {file}, boundary), router_error);
}

TEST(mime_document_entity_test, EmptyFilenameIsRejected) {
  const attachment file{"", "application/pdf", sample_bytes(10, 1)};

  EXPECT_THROW(build_document_entity("x\r\n", {file}, boundary), router_error);
}

TEST(mime_document_entity_test, BoundaryInTextIsRejected) {
  const attachment file{"a.pdf", "application/pdf", sample_bytes(10, 1)};
  const std::string text = std::string("before\r\n--") + boundary + "\r\nafter\r\n";

  const std::string message = error_message([&] { build_document_entity(text, {file}, boundary); });

  EXPECT_NE(message.find("occurs at the start of a line"), std::string::npos) << message;
}

TEST(mime_document_entity_test, InvalidBoundaryIsRejected) {
  const attachment file{"a.pdf", "application/pdf", sample_bytes(10, 1)};

  EXPECT_THROW(build_document_entity("x\r\n", {file}, ""), router_error);
  EXPECT_THROW(build_document_entity("x\r\n", {file}, "bad\"quote"), router_error);
  EXPECT_THROW(build_document_entity("x\r\n", {file}, "trailing "), router_error);
  EXPECT_THROW(build_document_entity("x\r\n", {file}, std::string(71, 'b')), router_error);
}

TEST(mime_document_entity_test, InvalidUtf8TextIsRejected) {
  EXPECT_THROW(build_document_entity("caf\xE9\r\n", {}, boundary), router_error);
}

TEST(mime_signed_entity_test, FirstPartIsExactlyTheSignedBytes) {
  const attachment pdf{"report.pdf", "application/pdf", sample_bytes(3000, 17)};
  const std::string inner = build_document_entity("Signed report.\r\n", {pdf}, "=_inner_1");
  const std::vector<uint8_t> signature = sample_bytes(700, 19);
  const std::string outer_boundary = "=_signed_2";

  const std::string entity = build_signed_entity(inner, signature, "sha-256", outer_boundary);

  // The first delimiter line ends with CR LF; the signed bytes run from there to
  // the CR LF that starts the next delimiter (RFC 2046 5.1.1).
  const std::string delimiter = "\r\n--" + outer_boundary + "\r\n";
  const size_t first = entity.find(delimiter);
  ASSERT_NE(first, std::string::npos);
  const size_t start = first + delimiter.size();
  const size_t end = entity.find("\r\n--" + outer_boundary, start);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(entity.substr(start, end - start), inner);
}

TEST(mime_signed_entity_test, HeadersFollowRfc8551) {
  const std::string entity = build_signed_entity("Content-Type: text/plain\r\n\r\nhi\r\n", sample_bytes(300, 21),
                                                 "sha-256", "=_signed_3");

  EXPECT_EQ(header_block(entity),
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
            " micalg=sha-256; boundary=\"=_signed_3\"\r\n");
  const std::string signature_headers =
      "\r\n--=_signed_3\r\n"
      "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=smime.p7s\r\n"
      "\r\n";
  EXPECT_NE(entity.find(signature_headers), std::string::npos) << entity;
  const std::string close_delimiter = "\r\n--=_signed_3--\r\n";
  EXPECT_EQ(entity.substr(entity.size() - close_delimiter.size()), close_delimiter);
  EXPECT_EQ(entity.find("x-pkcs7"), std::string::npos);
}

TEST(mime_signed_entity_test, PythonSeesTwoPartsAndSignature) {
  const std::string inner = build_document_entity("Signed text.\r\n", {}, "");
  const std::vector<uint8_t> signature = sample_bytes(1200, 23);
  const std::string entity = build_signed_entity(inner, signature, "sha-384", "=_signed_4");

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "defects 0")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 multipart/signed - -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "param 0 protocol=application/pkcs7-signature")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "param 0 micalg=sha-384")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 1 text/plain 7bit -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 application/pkcs7-signature base64 smime.p7s"))
      << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(1), "Signed text.\r\n");
  EXPECT_EQ(parsed.decoded_part(2), as_string(signature));
}

TEST(mime_signed_entity_test, BareLfEntityIsRejected) {
  EXPECT_THROW(build_signed_entity("Content-Type: text/plain\n\nhi\n", sample_bytes(10, 1), "sha-256", "b1"),
               router_error);
}

TEST(mime_signed_entity_test, BoundaryInEntityIsRejected) {
  EXPECT_THROW(build_signed_entity("Content-Type: text/plain\r\n\r\n--b1\r\n", sample_bytes(10, 1), "sha-256", "b1"),
               router_error);
}

TEST(mime_signed_entity_test, MicalgWithLineBreakIsRejected) {
  const std::string message = error_message([] {
    build_signed_entity("Content-Type: text/plain\r\n\r\nhi\r\n", sample_bytes(10, 1), "sha-256\r\nX: y", "b1");
  });

  EXPECT_NE(message.find("micalg"), std::string::npos) << message;
}

TEST(mime_pkcs7_entity_test, HeadersAndBase64Body) {
  const std::vector<uint8_t> der = sample_bytes(200, 29);

  const std::string entity = build_pkcs7_mime_entity(der, "enveloped-data");

  EXPECT_EQ(entity,
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data;\r\n"
            " name=smime.p7m\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=smime.p7m\r\n"
            "\r\n" +
                base64_lines(der));
}

TEST(mime_pkcs7_entity_test, PythonDecodesCmsBytes) {
  const std::vector<uint8_t> der = sample_bytes(3000, 31);
  const std::string entity = build_pkcs7_mime_entity(der, "authEnveloped-data");

  EXPECT_EQ(entity.find("x-pkcs7"), std::string::npos);
  EXPECT_LE(longest_crlf_line(entity), 78u);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, entity);
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 application/pkcs7-mime base64 smime.p7m")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "param 0 smime-type=authEnveloped-data")) << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(0), as_string(der));
}

TEST(mime_pkcs7_entity_test, UnknownSmimeTypeIsRejected) {
  EXPECT_THROW(build_pkcs7_mime_entity(sample_bytes(10, 1), "enveloped"), router_error);
  EXPECT_THROW(build_pkcs7_mime_entity(sample_bytes(10, 1), "signed-data\r\nX: y"), router_error);
}

TEST(mime_message_test, TraceFieldsComeFirst) {
  auto headers = sample_headers();
  headers.trace = {"Received: from b.example\r\n\tby c.example; Sat, 05 Dec 2026 01:50:00 +0000\r\n",
                   "Received: from a.example by b.example; Sat, 05 Dec 2026 01:49:00 +0000\r\n"};

  const std::string message = build_message(headers, "x\r\n");

  EXPECT_EQ(message.rfind(headers.trace[0] + headers.trace[1] + "From: ", 0), 0u) << message;
}

TEST(mime_message_test, BrokenTraceFieldIsRejected) {
  auto headers = sample_headers();
  headers.trace = {"Received: from a.example\r\nX-Injected: yes\r\n"};

  EXPECT_THROW(build_message(headers, "x\r\n"), router_error);
}

TEST(mime_message_test, EntityLineEndsMustBeCrLf) {
  for (const std::string entity : {"x", "x\r\n", "x\r\ny\r\n", "x\r\ny", "\r\n\r\n"})
    EXPECT_NO_THROW(build_message(sample_headers(), entity)) << ::testing::PrintToString(entity);
  for (const std::string entity : {"x\n", "\nx\r\n", "x\r", "x\ry\r\n", "x\r\r\n", "x\r\n\n", "x\r\ny\rz"})
    EXPECT_THROW(build_message(sample_headers(), entity), router_error) << ::testing::PrintToString(entity);
}

TEST(mime_message_test, HeadersComeInOrderBeforeEntity) {
  const std::string entity = build_document_entity("Hello.\r\n", {}, "");

  const std::string message = build_message(sample_headers(), entity);

  EXPECT_EQ(message,
            "From: Printer Room 3 <mfp-3@example.com>\r\n"
            "To: alice@example.com\r\n"
            "Subject: Quarterly maintenance report\r\n"
            "Date: Fri, 04 Dec 2026 19:43:00 +0000\r\n"
            "Message-ID: <20261204194300.1@mfp-3.example.com>\r\n"
            "MIME-Version: 1.0\r\n" +
                entity);
}

TEST(mime_message_test, NonAsciiSubjectIsEncodedWords) {
  message_headers headers = sample_headers();
  headers.subject = "Wartungsbericht f\xC3\xBCr Drucker \xE2\x80\x93 \xC3\x84nderungen im dritten Quartal 2026, "
                    "Standort M\xC3\xBCnchen";
  const std::string message = build_message(headers, build_document_entity("x\r\n", {}, ""));
  const std::string headers_text = header_block(message);

  EXPECT_NE(headers_text.find("Subject: =?utf-8?"), std::string::npos) << headers_text;
  for (const char c : headers_text)
    EXPECT_LT(static_cast<unsigned char>(c), 0x80u);
  for (const std::string& line : crlf_lines(headers_text))
    EXPECT_LE(line.size(), 76u) << line;

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing, "header Subject: " + headers.subject)) << parsed.listing;
}

TEST(mime_message_test, CjkSubjectUsesBase64Words) {
  message_headers headers = sample_headers();
  for (int i = 0; i < 12; ++i)
    headers.subject += "\xE4\xBF\x9D\xE5\xAE\x88\xE5\xA0\xB1\xE5\x91\x8A";  // "maintenance report" in Japanese
  const std::string message = build_message(headers, build_document_entity("x\r\n", {}, ""));

  EXPECT_NE(header_block(message).find("=?utf-8?B?"), std::string::npos);
  for (const std::string& line : crlf_lines(header_block(message)))
    EXPECT_LE(line.size(), 76u) << line;

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing, "header Subject: " + headers.subject)) << parsed.listing;
}

TEST(mime_message_test, LongAsciiSubjectFoldsAt78) {
  message_headers headers = sample_headers();
  headers.subject.clear();
  for (int i = 0; i < 30; ++i)
    headers.subject += "word" + std::to_string(i) + " ";
  headers.subject += "end";
  const std::string message = build_message(headers, build_document_entity("x\r\n", {}, ""));

  EXPECT_NE(header_block(message).find("Subject: word0 word1"), std::string::npos);
  for (const std::string& line : crlf_lines(header_block(message)))
    EXPECT_LE(line.size(), 78u) << line;

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing, "header Subject: " + headers.subject)) << parsed.listing;
}

TEST(mime_message_test, UnbreakableSubjectStaysUnder998) {
  message_headers headers = sample_headers();
  headers.subject = std::string(1500, 'S');
  const std::string message = build_message(headers, build_document_entity("x\r\n", {}, ""));

  EXPECT_LE(longest_crlf_line(message), 998u);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing, "header Subject: " + headers.subject)) << parsed.listing;
}

TEST(mime_message_test, RecipientsAreCommaSeparated) {
  message_headers headers = sample_headers();
  headers.to = {"alice@example.com", "Doe, John <john@example.com>", "J\xC3\xB6rg M\xC3\xBCller <joerg@example.com>",
                "<fax-2@example.com>"};
  const std::string message = build_message(headers, build_document_entity("x\r\n", {}, ""));

  EXPECT_NE(header_block(message).find("To: alice@example.com, \"Doe, John\" <john@example.com>,"),
            std::string::npos)
      << header_block(message);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing,
                            "header To: alice@example.com, \"Doe, John\" <john@example.com>, "
                            "J\xC3\xB6rg M\xC3\xBCller <joerg@example.com>, fax-2@example.com"))
      << parsed.listing;
}

TEST(mime_message_test, HeaderLineBreaksAreRejected) {
  struct injection_case {
    const char* field;
    void (*inject)(message_headers&);
  };
  const std::vector<injection_case> cases = {
      {"Subject", [](message_headers& h) { h.subject = "Report\r\nBcc: eve@example.com"; }},
      {"Subject", [](message_headers& h) { h.subject = "Report\nBcc: eve@example.com"; }},
      {"From address", [](message_headers& h) { h.from = "mfp@example.com\rBcc: eve@example.com"; }},
      {"To address", [](message_headers& h) { h.to.push_back("bob@example.com\r\nBcc: eve@example.com"); }},
      {"Date", [](message_headers& h) { h.date += "\r\nBcc: eve@example.com"; }},
      {"Message-ID", [](message_headers& h) { h.message_id = "<a@b>\r\nBcc: eve@example.com"; }},
  };
  const std::string entity = build_document_entity("x\r\n", {}, "");

  for (const injection_case& test_case : cases) {
    message_headers headers = sample_headers();
    test_case.inject(headers);

    const std::string message = error_message([&] { build_message(headers, entity); });

    EXPECT_NE(message.find(test_case.field), std::string::npos) << test_case.field << ": " << message;
    EXPECT_NE(message.find("line break"), std::string::npos) << test_case.field << ": " << message;
  }
}

TEST(mime_message_test, InvalidAddressesAreRejected) {
  const std::string entity = build_document_entity("x\r\n", {}, "");
  const std::vector<std::string> invalid = {"", "no-at-sign", "two words@example.com",
                                            "a@example.com, b@example.com", "m\xC3\xBCller@example.com"};

  for (const std::string& address : invalid) {
    message_headers headers = sample_headers();
    headers.to = {address};
    EXPECT_THROW(build_message(headers, entity), router_error) << address;
  }
}

TEST(mime_message_test, EmptyRecipientListIsRejected) {
  message_headers headers = sample_headers();
  headers.to.clear();

  EXPECT_THROW(build_message(headers, build_document_entity("x\r\n", {}, "")), router_error);
}

TEST(mime_message_test, SignedMessageParsesWithPython) {
  const attachment pdf{"report.pdf", "application/pdf", sample_bytes(4000, 37)};
  const std::string inner = build_document_entity("Report attached.\r\n", {pdf}, "=_inner_5");
  const std::vector<uint8_t> signature = sample_bytes(900, 41);
  const std::string message =
      build_message(sample_headers(), build_signed_entity(inner, signature, "sha-256", "=_outer_5"));

  EXPECT_FALSE(has_lone_cr_or_lf(message));
  EXPECT_LE(longest_crlf_line(message), 998u);

  const scratch_dir dir;
  const auto parsed = parse_with_python(dir, message);
  EXPECT_TRUE(contains_line(parsed.listing, "defects 0")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "header MIME-Version: 1.0")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 0 multipart/signed - -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 1 multipart/mixed - -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 2 text/plain 7bit -")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 3 application/pdf base64 report.pdf")) << parsed.listing;
  EXPECT_TRUE(contains_line(parsed.listing, "part 4 application/pkcs7-signature base64 smime.p7s"))
      << parsed.listing;
  EXPECT_EQ(parsed.decoded_part(2), "Report attached.\r\n");
  EXPECT_EQ(parsed.decoded_part(3), as_string(pdf.data));
  EXPECT_EQ(parsed.decoded_part(4), as_string(signature));
}

} // namespace
} // namespace router::mime
