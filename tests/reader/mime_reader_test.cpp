// The MIME reader: header unfolding, Content-Type parameters, multipart
// splitting with CR LF and bare LF line ends, transfer decodings, the S/MIME
// entity search and the limits. Messages built by our own MIME builders must
// come back byte for byte.
#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/mime/reader.hpp"

#include <gtest/gtest.h>

namespace router::mime {
namespace {

std::string to_string(const std::vector<uint8_t>& data) {
  return std::string(data.begin(), data.end());
}

/// Replaces every CR LF with LF, as a message stored on Unix has it.
std::string with_bare_lf(std::string text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
      continue;
    out += text[i];
  }
  return out;
}

TEST(mime_reader_test, HeadersAreUnfolded) {
  const entity parsed = parse_entity(
      "Subject: a long\r\n"
      " folded\r\n"
      "\tsubject\r\n"
      "X-Empty:\r\n"
      "Old-Style : value\r\n"
      "\r\n"
      "body");

  EXPECT_EQ(parsed.header("subject"), "a long folded\tsubject");
  EXPECT_EQ(parsed.header("X-EMPTY"), "");
  EXPECT_EQ(parsed.header("Old-Style"), "value");
  EXPECT_EQ(parsed.header("Missing"), "");
  EXPECT_EQ(parsed.body, "body");
  EXPECT_EQ(parsed.type.media_type(), "text/plain");
  EXPECT_EQ(parsed.transfer_encoding, "7bit");
}

TEST(mime_reader_test, HeaderOnlyEntityHasEmptyBody) {
  const entity parsed = parse_entity("Content-Type: text/plain\r\n");

  EXPECT_EQ(parsed.header("Content-Type"), "text/plain");
  EXPECT_EQ(parsed.body, "");
}

TEST(mime_reader_test, EntityWithoutHeaders) {
  const entity parsed = parse_entity("\r\nonly a body\r\n");

  EXPECT_TRUE(parsed.headers.empty());
  EXPECT_EQ(parsed.body, "only a body\r\n");
}

TEST(mime_reader_test, InvalidHeaderLinesAreRejected) {
  EXPECT_THROW(parse_entity("no colon here\r\n\r\nbody"), router_error);
  EXPECT_THROW(parse_entity(" continuation first\r\n\r\nbody"), router_error);
  EXPECT_THROW(parse_entity(": empty name\r\n\r\nbody"), router_error);
}

TEST(mime_reader_test, ContentTypeParameters) {
  const content_type parsed = parse_content_type(
      " Multipart/Signed (comment) ; PROTOCOL=\"application/pkcs7-signature\";\r\n"
      " micalg=sha-256; boundary=\"a \\\"quoted\\\" boundary\"; empty=\"\";");

  EXPECT_EQ(parsed.media_type(), "multipart/signed");
  EXPECT_EQ(parsed.parameter("protocol"), "application/pkcs7-signature");
  EXPECT_EQ(parsed.parameter("Micalg"), "sha-256");
  EXPECT_EQ(parsed.parameter("boundary"), "a \"quoted\" boundary");
  EXPECT_EQ(parsed.parameter("empty"), "");
  EXPECT_EQ(parsed.parameter("absent"), "");
}

TEST(mime_reader_test, InvalidContentTypesAreRejected) {
  for (const std::string value : {"text", "text/", "/plain", "text/plain; name", "text/plain; name=\"open",
                                  "text/plain name=value"}) {
    SCOPED_TRACE(value);
    EXPECT_THROW(parse_content_type(value), router_error);
  }
}

const std::string multipart_message =
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "first\r\n"
    "--b1  \r\n"
    "Content-Type: multipart/alternative; boundary=b2\r\n"
    "\r\n"
    "--b2\r\n"
    "\r\n"
    "inner one\r\n"
    "--b2\r\n"
    "\r\n"
    "inner two\r\n"
    "--b2--\r\n"
    "\r\n"
    "--b1--\r\n"
    "epilogue\r\n";

TEST(mime_reader_test, MultipartIsSplit) {
  for (const bool bare_lf : {false, true}) {
    SCOPED_TRACE(bare_lf ? "LF" : "CR LF");
    const std::string message = bare_lf ? with_bare_lf(multipart_message) : multipart_message;
    const std::string line_end = bare_lf ? "\n" : "\r\n";

    const entity parsed = parse_entity(message);

    ASSERT_EQ(parsed.parts.size(), 2u);
    EXPECT_EQ(parsed.parts[0].raw, "Content-Type: text/plain" + line_end + line_end + "first");
    EXPECT_EQ(parsed.parts[0].body, "first");
    ASSERT_EQ(parsed.parts[1].parts.size(), 2u);
    EXPECT_EQ(parsed.parts[1].parts[0].body, "inner one");
    EXPECT_EQ(parsed.parts[1].parts[1].body, "inner two");
  }
}

TEST(mime_reader_test, BadMultipartIsRejected) {
  EXPECT_THROW(parse_entity("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\na\r\n--x--\r\n"), router_error);
  EXPECT_THROW(parse_entity("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\na\r\n"), router_error);
  EXPECT_THROW(parse_entity("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n"), router_error);
  // A boundary that only starts a longer word is no delimiter.
  EXPECT_THROW(parse_entity("Content-Type: multipart/mixed; boundary=x\r\n\r\n--xy\r\n\r\na\r\n--xy--\r\n"),
               router_error);
}

TEST(mime_reader_test, TransferEncodingsAreDecoded) {
  entity part;
  part.transfer_encoding = "base64";
  part.body = "aGVs\r\nbG8g\r\nd29y bGQ=\r\n";
  EXPECT_EQ(to_string(decode_body(part)), "hello world");

  part.transfer_encoding = "quoted-printable";
  part.body = "caf=C3=A9 =3D soft=\r\nbreak=  \nnext=ZZ end=";
  EXPECT_EQ(to_string(decode_body(part)), "caf\xc3\xa9 = softbreaknext=ZZ end=");

  for (const std::string encoding : {"7bit", "8bit", "binary"}) {
    part.transfer_encoding = encoding;
    part.body = "as is =3D\r\n";
    EXPECT_EQ(to_string(decode_body(part)), "as is =3D\r\n");
  }

  part.transfer_encoding = "x-uuencode";
  EXPECT_THROW(decode_body(part), router_error);
  part.transfer_encoding = "base64";
  part.body = "not*base64";
  EXPECT_THROW(decode_body(part), router_error);
}

TEST(mime_reader_test, QuotedPrintableRoundTrip) {
  const std::string text = "line one \r\nt\xc3\xa4st = x\t\r\n" + std::string(200, 'y') + "\r\nend";

  EXPECT_EQ(to_string(decode_quoted_printable(encode_quoted_printable(text))), text);
}

TEST(mime_reader_test, OwnSignedEntityRoundTrips) {
  const std::string inner = build_document_entity("Hello\r\nsecond line", {}, "inner-boundary");
  const std::vector<uint8_t> signature = {0x30, 0x03, 0x02, 0x01, 0x01};
  const std::string signed_entity = build_signed_entity(inner, signature, "sha-256", "outer-boundary");
  const std::string message = build_message({"router@example.com", {"bob@example.com"}, "Report",
                                             format_date(1780000000), "<1@example.com>"},
                                            signed_entity);

  const smime_entity found = find_smime(parse_entity(message));

  EXPECT_EQ(found.kind, smime_kind::multipart_signed);
  EXPECT_EQ(found.signed_bytes, inner);
  EXPECT_EQ(found.signature, signature);
  EXPECT_EQ(found.micalg, "sha-256");
}

TEST(mime_reader_test, OwnPkcs7EntityRoundTrips) {
  const std::vector<uint8_t> der(3000, 0x5a);
  const std::string message = build_message({"router@example.com", {"bob@example.com"}, "Report",
                                             format_date(1780000000), "<2@example.com>"},
                                            build_pkcs7_mime_entity(der, "authEnveloped-data"));

  const smime_entity found = find_smime(parse_entity(message));

  EXPECT_EQ(found.kind, smime_kind::pkcs7_mime);
  EXPECT_EQ(found.der, der);
  EXPECT_EQ(found.smime_type, "authEnveloped-data");
}

TEST(mime_reader_test, LegacyTypeNamesAreFound) {
  const std::string pkcs7 =
      "Content-Type: application/x-pkcs7-mime; name=smime.p7m\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "MAMCAQE=\r\n";
  const smime_entity found = find_smime(parse_entity(pkcs7));
  EXPECT_EQ(found.kind, smime_kind::pkcs7_mime);
  EXPECT_EQ(found.der, std::vector<uint8_t>({0x30, 0x03, 0x02, 0x01, 0x01}));
  EXPECT_EQ(found.smime_type, "");

  const std::string multipart =
      "Content-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; boundary=s\n"
      "\n"
      "--s\n"
      "Content-Type: text/plain\n"
      "\n"
      "signed text\n"
      "--s\n"
      "Content-Type: application/x-pkcs7-signature\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "MAMCAQE=\n"
      "--s--\n";
  const smime_entity signed_found = find_smime(parse_entity(multipart));
  EXPECT_EQ(signed_found.kind, smime_kind::multipart_signed);
  EXPECT_EQ(signed_found.signed_bytes, "Content-Type: text/plain\n\nsigned text");
}

TEST(mime_reader_test, SmimeTypeIsDetectedFromDer) {
  // ContentInfo { contentType id-signedData, content [0] { NULL } }
  const std::vector<uint8_t> signed_data = {0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                            0x0d, 0x01, 0x07, 0x02, 0xa0, 0x02, 0x05, 0x00};
  std::vector<uint8_t> enveloped = signed_data;
  enveloped[12] = 0x03;

  EXPECT_EQ(detect_smime_type(signed_data), "signed-data");
  EXPECT_EQ(detect_smime_type(enveloped), "enveloped-data");
  EXPECT_EQ(detect_smime_type({0x01, 0x02}), "");
}

TEST(mime_reader_test, OtherSignedProtocolIsNotSmime) {
  const std::string message =
      "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\r\n"
      "\r\n"
      "--s\r\n\r\ntext\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--s--\r\n";

  EXPECT_EQ(find_smime(parse_entity(message)).kind, smime_kind::none);
}

TEST(mime_reader_test, SignedWithThreePartsIsRejected) {
  const std::string message =
      "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s\r\n"
      "\r\n"
      "--s\r\n\r\na\r\n--s\r\n\r\nb\r\n--s\r\n\r\nc\r\n--s--\r\n";

  EXPECT_THROW(find_smime(parse_entity(message)), router_error);
}

/// Returns a message of `levels` multipart/mixed entities nested in each other.
std::string nested_multipart(int levels) {
  std::string nested = "\r\ninnermost body";
  for (int level = 0; level < levels; ++level) {
    const std::string boundary = "b" + std::to_string(level);
    nested = "Content-Type: multipart/mixed; boundary=" + boundary + "\r\n\r\n--" + boundary + "\r\n" + nested +
             "\r\n--" + boundary + "--\r\n";
  }
  return nested;
}

TEST(mime_reader_test, LimitsAreEnforced) {
  reader_limits limits;
  limits.max_header_bytes = 100;
  EXPECT_THROW(parse_entity("X-Long: " + std::string(200, 'a') + "\r\n\r\nbody", limits), router_error);
  EXPECT_THROW(parse_entity("X-Long: " + std::string(200, 'a'), limits), router_error);
  EXPECT_NO_THROW(parse_entity("X-Short: " + std::string(80, 'a') + "\r\n\r\n" + std::string(500, 'b'), limits));

  EXPECT_NO_THROW(parse_entity(nested_multipart(8)));
  EXPECT_THROW(parse_entity(nested_multipart(9)), router_error);

  std::string many = "Content-Type: multipart/mixed; boundary=m\r\n\r\n";
  for (int part = 0; part < 300; ++part)
    many += "--m\r\n\r\npart\r\n";
  many += "--m--\r\n";
  EXPECT_THROW(parse_entity(many), router_error);
  limits = reader_limits{};
  limits.max_parts = 1000;
  EXPECT_EQ(parse_entity(many, limits).parts.size(), 300u);
}

} // namespace
} // namespace router::mime
