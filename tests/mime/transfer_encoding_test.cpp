// Line-end canonicalization, base64 and quoted-printable lines, and Date
// formatting. Decoding is done by independent tools (coreutils base64, Python's
// binascii), not by our own code.
#include <botan/base64.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/common/error.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/mime/mime_test_support.hpp"

namespace router::mime {
namespace {

using router::testing::crlf_lines;
using router::testing::has_lone_cr_or_lf;
using router::testing::read_file;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::write_file;

std::vector<uint8_t> sample_bytes(size_t count) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i)
    bytes[i] = static_cast<uint8_t>((i * 131 + 7) % 256);
  return bytes;
}

/// Decodes quoted-printable with Python's binascii.a2b_qp, which keeps CR LF.
std::string decode_quoted_printable_with_python(const std::string& encoded) {
  const scratch_dir dir;
  write_file(dir / "encoded.txt", encoded);
  write_file(dir / "decode.py",
             "import binascii, sys\n"
             "data = open(sys.argv[1], 'rb').read()\n"
             "open(sys.argv[2], 'wb').write(binascii.a2b_qp(data))\n");
  const auto result = run_command("/usr/bin/python3 " + shell_quote((dir / "decode.py").string()) + " " +
                                  shell_quote((dir / "encoded.txt").string()) + " " +
                                  shell_quote((dir / "decoded.bin").string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return read_file(dir / "decoded.bin");
}

TEST(mime_line_ends_test, BareLfBecomesCrlf) {
  EXPECT_EQ(canonicalize_line_ends("one\ntwo\n"), "one\r\ntwo\r\n");
}

TEST(mime_line_ends_test, CrlfInputIsUnchanged) {
  const std::string canonical = "one\r\ntwo\r\n\r\nthree\r\n";
  EXPECT_EQ(canonicalize_line_ends(canonical), canonical);
  EXPECT_EQ(canonicalize_line_ends(canonical).find("\r\r\n"), std::string::npos);
}

TEST(mime_line_ends_test, LoneCrBecomesCrlf) {
  EXPECT_EQ(canonicalize_line_ends("one\rtwo\r"), "one\r\ntwo\r\n");
}

TEST(mime_line_ends_test, MixedEndsNeverYieldCrCrLf) {
  const std::string canonical = canonicalize_line_ends("a\r\r\nb\n\rc\r\n\nd");
  EXPECT_EQ(canonical, "a\r\n\r\nb\r\n\r\nc\r\n\r\nd");
  EXPECT_EQ(canonical.find("\r\r\n"), std::string::npos);
  EXPECT_FALSE(has_lone_cr_or_lf(canonical));
}

TEST(mime_base64_test, LinesHold76CharactersEndedByCrlf) {
  const std::string encoded = base64_lines(sample_bytes(1000));
  const std::vector<std::string> lines = crlf_lines(encoded);

  ASSERT_EQ(lines.size(), 18u);  // 1000 bytes give 1336 characters: 17 full lines and 44 more
  for (size_t i = 0; i + 1 < lines.size(); ++i)
    EXPECT_EQ(lines[i].size(), 76u) << "line " << i;
  EXPECT_EQ(lines.back().size(), 44u);
  EXPECT_EQ(encoded.substr(encoded.size() - 2), "\r\n");
  EXPECT_FALSE(has_lone_cr_or_lf(encoded));
}

TEST(mime_base64_test, ExactMultipleGivesNoShortLine) {
  const std::string encoded = base64_lines(sample_bytes(57 * 2));
  const std::vector<std::string> lines = crlf_lines(encoded);

  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 76u);
  EXPECT_EQ(lines[1].size(), 76u);
}

TEST(mime_base64_test, MatchesBotanForEveryTailLength) {
  // Every length from 0 to 3 full lines and a bit, so each padding case meets
  // each position in a line. Botan's encoder is the reference.
  for (size_t length = 0; length <= 57 * 3 + 4; ++length) {
    SCOPED_TRACE("length " + std::to_string(length));
    std::vector<uint8_t> data(length);
    for (size_t i = 0; i < length; ++i)
      data[i] = static_cast<uint8_t>((i * 151 + length * 7) & 0xff);

    std::string joined;
    for (const auto& line : crlf_lines(base64_lines(data)))
      joined += line;

    EXPECT_EQ(joined, Botan::base64_encode(data.data(), data.size()));
  }
}

TEST(mime_base64_test, EmptyInputGivesNoLines) {
  EXPECT_EQ(base64_lines({}), "");
}

TEST(mime_base64_test, RoundTripsThroughCoreutilsBase64) {
  const std::vector<uint8_t> original = sample_bytes(5000);
  const scratch_dir dir;
  write_file(dir / "encoded.txt", base64_lines(original));

  // -i skips the CR of each CR LF, which coreutils base64 otherwise rejects.
  const auto result = run_command("base64 -d -i " + shell_quote((dir / "encoded.txt").string()) + " > " +
                                  shell_quote((dir / "decoded.bin").string()));

  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string decoded = read_file(dir / "decoded.bin");
  EXPECT_EQ(decoded, std::string(original.begin(), original.end()));
}

TEST(mime_quoted_printable_test, SoftBreaksKeepLinesWithin76) {
  const std::string text = std::string(1200, 'x') + "\r\n" + std::string(300, 'y') + "\r\n";
  const std::string encoded = encode_quoted_printable(text);

  for (const std::string& line : crlf_lines(encoded))
    EXPECT_LE(line.size(), 76u) << line;
  EXPECT_EQ(decode_quoted_printable_with_python(encoded), text);
}

TEST(mime_quoted_printable_test, TrailingSpaceAndTabAreEncoded) {
  const std::string encoded = encode_quoted_printable("end space \r\nend tab\t\r\nlast ");

  EXPECT_EQ(encoded, "end space=20\r\nend tab=09\r\nlast=20");
}

TEST(mime_quoted_printable_test, EqualsSignAndNonAsciiAreEscaped) {
  EXPECT_EQ(encode_quoted_printable("a=b \xC3\xBC"), "a=3Db =C3=BC");
}

TEST(mime_quoted_printable_test, LoneLineEndsAreEscaped) {
  EXPECT_EQ(encode_quoted_printable("a\nb\rc"), "a=0Ab=0Dc");
}

TEST(mime_quoted_printable_test, EscapesNearLineEndRoundTrip) {
  // Lines of varied length, each ending in escapes and spaces, exercise every
  // position a soft break can fall on.
  std::string text;
  for (int length = 60; length < 90; ++length)
    text += std::string(static_cast<size_t>(length), 'a') + "\xC3\xA4 = \t\r\n";
  const std::string encoded = encode_quoted_printable(text);

  for (const std::string& line : crlf_lines(encoded)) {
    EXPECT_LE(line.size(), 76u) << line;
    EXPECT_NE(line.back(), ' ') << line;
    EXPECT_NE(line.back(), '\t') << line;
  }
  EXPECT_EQ(decode_quoted_printable_with_python(encoded), text);
}

TEST(mime_date_test, FormatsUtcWithZeroOffset) {
  EXPECT_EQ(format_date(1796413380), "Fri, 04 Dec 2026 19:43:00 +0000");
}

TEST(mime_date_test, FormatsEpochAndLeapDay) {
  EXPECT_EQ(format_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_date(1709164800), "Thu, 29 Feb 2024 00:00:00 +0000");
}

TEST(mime_date_test, RejectsYearBefore1900) {
  EXPECT_THROW(format_date(-2300000000LL), router_error);
}

} // namespace
} // namespace router::mime
