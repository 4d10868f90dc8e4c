// Helpers for the mime tests: line checks and parsing with Python's email
// package (tests/mime/dump_mime_parts.py), an independent MIME parser.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/common/test_support.hpp"

namespace router::testing {

/// Splits text at CR LF; a final CR LF ends the last line and adds no empty one.
inline std::vector<std::string> crlf_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

inline size_t longest_crlf_line(const std::string& text) {
  size_t longest = 0;
  for (const std::string& line : crlf_lines(text))
    longest = std::max(longest, line.size());
  return longest;
}

/// True when some CR is not followed by LF or some LF does not follow a CR.
inline bool has_lone_cr_or_lf(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))
      return true;
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      return true;
  }
  return false;
}

/// Returns the header block of an entity or message: everything before the first empty line.
inline std::string header_block(const std::string& entity) {
  return entity.substr(0, entity.find("\r\n\r\n") + 2);
}

inline bool contains_line(const std::string& listing, const std::string& line) {
  const std::vector<std::string> lines = crlf_lines(listing);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

/// A message as Python's email package parsed it.
struct python_parse {
  std::string listing;             // dump_mime_parts.py output with CR LF line ends
  std::filesystem::path part_dir;  // contains part-N.bin, the decoded bodies

  std::string decoded_part(int index) const {
    return read_file(part_dir / ("part-" + std::to_string(index) + ".bin"));
  }
};

/// Writes `message` under `dir` and parses it with dump_mime_parts.py.
inline python_parse parse_with_python(const scratch_dir& dir, const std::string& message) {
  const auto message_path = dir / "message.eml";
  write_file(message_path, message);

  const std::string script = source_path("tests/mime/dump_mime_parts.py").string();
  const command_result result = run_command("/usr/bin/python3 " + shell_quote(script) + " " +
                                            shell_quote(message_path.string()) + " " +
                                            shell_quote(dir.path().string()));
  EXPECT_EQ(result.exit_code, 0) << result.output;

  std::string listing;
  for (const char c : result.output) {
    if (c == '\n')
      listing += "\r\n";
    else
      listing += c;
  }
  return {listing, dir.path()};
}

} // namespace router::testing
