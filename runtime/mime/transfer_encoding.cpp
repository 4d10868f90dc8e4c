// Line-end canonicalization and the base64 and quoted-printable transfer
// encodings of RFC 2045 sections 6.7 and 6.8.
#include <botan/base64.h>

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

std::string base64_lines(const std::vector<uint8_t>& data) {
  const std::string encoded = Botan::base64_encode(data.data(), data.size());

  std::string lines;
  lines.reserve(encoded.size() + 2 * (encoded.size() / encoded_line_length + 1));
  for (size_t start = 0; start < encoded.size(); start += encoded_line_length) {
    lines.append(encoded, start, encoded_line_length);
    lines += "\r\n";
  }
  return lines;
}

void base64_line_encoder::update(const uint8_t* data, size_t length, std::string& out) {
  // 57 input octets make exactly one 76-character line.
  constexpr size_t line_input = encoded_line_length / 4 * 3;
  pending_.insert(pending_.end(), data, data + length);
  const size_t whole = pending_.size() - pending_.size() % line_input;
  if (whole == 0)
    return;

  const std::string encoded = Botan::base64_encode(pending_.data(), whole);
  out.reserve(out.size() + encoded.size() + 2 * (encoded.size() / encoded_line_length));
  for (size_t start = 0; start < encoded.size(); start += encoded_line_length) {
    out.append(encoded, start, encoded_line_length);
    out += "\r\n";
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
}

void base64_line_encoder::finish(std::string& out) {
  if (pending_.empty())
    return;
  out += Botan::base64_encode(pending_.data(), pending_.size());
  out += "\r\n";
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
