// Line-end canonicalization and the base64 and quoted-printable transfer
// encodings of RFC 2045 sections 6.7 and 6.8.
#include <algorithm>
#include <cstdio>

#include "runtime/mime/mime.hpp"

namespace router::mime {

namespace {

/// RFC 2045 6.7 rule 5 and 6.8: encoded lines hold at most 76 characters.
constexpr size_t encoded_line_length = 76;

bool is_crlf_at(std::string_view text, size_t position) {
  return position + 1 < text.size() && text[position] == '\r' && text[position + 1] == '\n';
}

std::string quoted_printable_token(uint8_t octet, bool ends_line) {
  // Rules 2 and 3: printable ASCII other than "=" stands for itself, and so do
  // space and tab unless they would end an encoded line.
  const bool printable = octet >= 33 && octet <= 126 && octet != '=';
  const bool inner_space = (octet == ' ' || octet == '\t') && !ends_line;
  if (printable || inner_space)
    return std::string(1, static_cast<char>(octet));

  char escaped[4];
  std::snprintf(escaped, sizeof escaped, "=%02X", octet);
  return escaped;
}

} // namespace

std::string canonicalize_line_ends(std::string_view text) {
  std::string canonical;
  canonical.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      canonical += "\r\n";
      continue;
    }
    if (c == '\n') {
      canonical += "\r\n";
      continue;
    }
    canonical += c;
  }
  return canonical;
}

/// Appends `size` octets as base64 lines of 76 characters, each ending in CRLF.
static void append_base64_lines(const uint8_t* data, size_t size, std::string& lines) {
  // A table lookup per character, written straight into the lines. Botan's
  // base64_encode() runs in constant time, which protects key material but
  // made encoding a 1 MiB message take about half of building it. Message
  // content needs no such protection from timing here.
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  constexpr size_t bytes_per_line = encoded_line_length / 4 * 3;

  const size_t encoded_size = (size + 2) / 3 * 4;
  lines.reserve(lines.size() + encoded_size + 2 * (encoded_size / encoded_line_length + 1));
  for (size_t line_start = 0; line_start < size; line_start += bytes_per_line) {
    const size_t line_end = std::min(size, line_start + bytes_per_line);
    size_t i = line_start;
    for (; i + 3 <= line_end; i += 3) {
      const uint32_t group = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
      lines += alphabet[(group >> 18) & 0x3f];
      lines += alphabet[(group >> 12) & 0x3f];
      lines += alphabet[(group >> 6) & 0x3f];
      lines += alphabet[group & 0x3f];
    }
    if (i < line_end) {
      // The last one or two bytes of the data, padded with '=' (RFC 2045 6.8).
      const bool has_second_byte = i + 1 < line_end;
      const uint32_t group = (uint32_t{data[i]} << 16) | (has_second_byte ? uint32_t{data[i + 1]} << 8 : 0);
      lines += alphabet[(group >> 18) & 0x3f];
      lines += alphabet[(group >> 12) & 0x3f];
      lines += has_second_byte ? alphabet[(group >> 6) & 0x3f] : '=';
      lines += '=';
    }
    lines += "\r\n";
  }
}

std::string base64_lines(const std::vector<uint8_t>& data) {
  std::string lines;
  append_base64_lines(data.data(), data.size(), lines);
  return lines;
}

void base64_line_encoder::update(const uint8_t* data, size_t length, std::string& out) {
  // 57 input octets make exactly one 76-character line.
  constexpr size_t line_input = encoded_line_length / 4 * 3;
  pending_.insert(pending_.end(), data, data + length);
  const size_t whole = pending_.size() - pending_.size() % line_input;
  if (whole == 0)
    return;

  append_base64_lines(pending_.data(), whole, out);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
}

void base64_line_encoder::finish(std::string& out) {
  if (pending_.empty())
    return;
  append_base64_lines(pending_.data(), pending_.size(), out);
  pending_.clear();
}

std::string encode_quoted_printable(std::string_view text) {
  std::string encoded;
  size_t line_length = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_crlf_at(text, i)) {
      encoded += "\r\n";
      line_length = 0;
      ++i;
      continue;
    }

    const bool ends_line = i + 1 == text.size() || is_crlf_at(text, i + 1);
    const std::string token = quoted_printable_token(static_cast<uint8_t>(text[i]), ends_line);

    // A line that continues needs one column for the "=" of the soft line break.
    const size_t limit = ends_line ? encoded_line_length : encoded_line_length - 1;
    if (line_length + token.size() > limit) {
      encoded += "=\r\n";
      line_length = 0;
    }
    encoded += token;
    line_length += token.size();
  }
  return encoded;
}

} // namespace router::mime
