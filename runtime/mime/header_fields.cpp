#include "runtime/mime/header_fields.hpp"

#include <botan/base64.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "runtime/common/error.hpp"

namespace router::mime::detail {

namespace {

/// RFC 2047 section 2: an encoded-word is at most 75 characters long, and a line
/// that contains one is at most 76 characters long.
constexpr size_t max_encoded_word_length = 75;
constexpr size_t encoded_word_line_length = 76;
constexpr std::string_view encoded_word_charset = "utf-8";

enum class word_encoding { base64, quoted_printable };

/// Returns the length of the well-formed UTF-8 sequence at `position`, or 0 when
/// the bytes there are not one (overlong forms and surrogates included).
size_t utf8_sequence_length(std::string_view text, size_t position) {
  const auto lead = static_cast<uint8_t>(text[position]);
  if (lead < 0x80)
    return 1;

  size_t length = 0;
  uint32_t code_point = 0;
  uint32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (position + length > text.size())
    return 0;

  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<uint8_t>(text[position + k]);
    if ((next & 0xC0) != 0x80)
      return 0;
    code_point = (code_point << 6) | (next & 0x3F);
  }

  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (code_point < minimum || code_point > 0x10FFFF || surrogate)
    return 0;
  return length;
}

/// Splits valid UTF-8 text into its characters, so encoders never split one.
std::vector<std::string_view> utf8_characters(std::string_view text) {
  std::vector<std::string_view> characters;
  size_t position = 0;
  while (position < text.size()) {
    const size_t length = std::max<size_t>(utf8_sequence_length(text, position), 1);
    characters.push_back(text.substr(position, length));
    position += length;
  }
  return characters;
}

std::string hex_escape(char prefix, uint8_t octet) {
  char buffer[4];
  std::snprintf(buffer, sizeof buffer, "%c%02X", prefix, octet);
  return buffer;
}

bool is_ascii_alphanumeric(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_printable_ascii(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7E)
      return false;
  }
  return true;
}

/// Checks that text can go into a header unencoded: printable ASCII or tab, and
/// nothing a decoder could take for an encoded-word.
bool is_plain_header_text(std::string_view text) {
  for (const char c : text) {
    if ((c < 0x20 || c > 0x7E) && c != '\t')
      return false;
  }
  return text.find("=?") == std::string_view::npos;
}

/// Checks whether a "Q" encoded-word may carry the octet literally in any header
/// context, phrases included (RFC 2047 5(3)). Encoders write a space as "_".
bool is_q_literal(uint8_t c) {
  return is_ascii_alphanumeric(c) || std::strchr("!*+-/", c) != nullptr;
}

size_t q_encoded_length(std::string_view bytes) {
  size_t length = 0;
  for (const char c : bytes) {
    const auto octet = static_cast<uint8_t>(c);
    length += (is_q_literal(octet) || octet == ' ') ? 1 : 3;
  }
  return length;
}

size_t base64_encoded_length(size_t byte_count) {
  return 4 * ((byte_count + 2) / 3);
}

size_t encoded_word_length(std::string_view bytes, word_encoding encoding) {
  // "=?" charset "?" letter "?" text "?="
  const size_t framing = 2 + encoded_word_charset.size() + 3 + 2;
  if (encoding == word_encoding::base64)
    return framing + base64_encoded_length(bytes.size());
  return framing + q_encoded_length(bytes);
}

std::string encode_word(std::string_view bytes, word_encoding encoding) {
  std::string word = "=?" + std::string(encoded_word_charset);
  if (encoding == word_encoding::base64) {
    word += "?B?";
    word += Botan::base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return word + "?=";
  }

  word += "?Q?";
  for (const char c : bytes) {
    const auto octet = static_cast<uint8_t>(c);
    if (octet == ' ')
      word += '_';
    else if (is_q_literal(octet))
      word += c;
    else
      word += hex_escape('=', octet);
  }
  return word + "?=";
}

/// Encodes UTF-8 text as encoded-words separated by spaces. The first word fits
/// in `first_word_budget` characters and the others in 75. No word splits a character.
std::string encoded_words(std::string_view text, size_t first_word_budget) {
  const word_encoding encoding = q_encoded_length(text) <= base64_encoded_length(text.size())
                                     ? word_encoding::quoted_printable
                                     : word_encoding::base64;

  std::vector<std::string> words;
  std::string chunk;
  size_t budget = first_word_budget;
  for (const std::string_view character : utf8_characters(text)) {
    const std::string candidate = chunk + std::string(character);
    if (!chunk.empty() && encoded_word_length(candidate, encoding) > budget) {
      words.push_back(encode_word(chunk, encoding));
      chunk = std::string(character);
      budget = max_encoded_word_length;
      continue;
    }
    chunk = candidate;
  }
  if (!chunk.empty())
    words.push_back(encode_word(chunk, encoding));

  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty())
      joined += ' ';
    joined += word;
  }
  return joined;
}

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

/// Splits "Name: value" into lines of at most `width` octets where possible.
/// A fold goes before a space that follows some text and precedes a non-space,
/// never inside a quoted string, so unfolding restores the value exactly.
std::vector<std::string> fold_lines(std::string_view name, std::string_view value, size_t width) {
  const std::string unfolded = std::string(name) + ": " + std::string(value);

  std::vector<size_t> segment_starts{0};
  bool in_quotes = false;
  bool segment_has_text = false;
  for (size_t i = name.size() + 2; i < unfolded.size(); ++i) {
    const char c = unfolded[i];
    if (in_quotes) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_quotes = false;
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      segment_has_text = true;
      continue;
    }
    const bool next_is_text = i + 1 < unfolded.size() && !is_wsp(unfolded[i + 1]);
    if (c == ' ' && segment_has_text && next_is_text) {
      segment_starts.push_back(i);
      segment_has_text = false;
      continue;
    }
    if (!is_wsp(c))
      segment_has_text = true;
  }
  segment_starts.push_back(unfolded.size());

  std::vector<std::string> lines;
  std::string line;
  for (size_t k = 0; k + 1 < segment_starts.size(); ++k) {
    const std::string_view segment =
        std::string_view(unfolded).substr(segment_starts[k], segment_starts[k + 1] - segment_starts[k]);
    if (!line.empty() && line.size() + segment.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += segment;
  }
  lines.push_back(line);
  return lines;
}

size_t longest_line(const std::vector<std::string>& lines) {
  size_t longest = 0;
  for (const std::string& line : lines)
    longest = std::max(longest, line.size());
  return longest;
}

/// RFC 5322 3.2.3 atext, plus the space between the words of a phrase.
bool is_atext_or_space(char c) {
  return is_ascii_alphanumeric(static_cast<uint8_t>(c)) || c == ' ' ||
         std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

std::string quoted_string(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && is_wsp(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_wsp(text.back()))
    text.remove_suffix(1);
  return text;
}

void check_address(std::string_view field, std::string_view address) {
  const std::string shown(address);
  if (!is_ascii(address))
    throw router_error(std::string(field) + " address \"" + shown +
                       "\" is not ASCII; internationalized addresses (SMTPUTF8) are not supported");

  const size_t at = address.rfind('@');
  if (address.empty() || at == std::string_view::npos || at == 0 || at + 1 == address.size())
    throw router_error(std::string(field) + " address \"" + shown +
                       "\" is invalid; expected local-part@domain");

  for (const char c : address) {
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',')
      throw router_error(std::string(field) + " address \"" + shown +
                         "\" contains a space, control character, angle bracket or comma; "
                         "give one address per entry");
  }
}

std::string display_name_value(std::string_view field, std::string_view display_name) {
  if (!is_valid_utf8(display_name))
    throw router_error(std::string(field) + " display name is not valid UTF-8");

  if (!is_plain_header_text(display_name))
    return encoded_words(display_name, max_encoded_word_length);

  const bool already_quoted =
      display_name.size() >= 2 && display_name.front() == '"' && display_name.back() == '"';
  if (already_quoted)
    return std::string(display_name);

  for (const char c : display_name) {
    if (!is_atext_or_space(c))
      return quoted_string(display_name);
  }
  return std::string(display_name);
}

/// Checks for an RFC 2231 attribute-char, which an extended value carries unescaped.
bool is_attribute_char(uint8_t c) {
  return is_ascii_alphanumeric(c) || std::strchr("!#$&+-.^_`|~", c) != nullptr;
}

std::string percent_encode(std::string_view bytes) {
  std::string encoded;
  for (const char c : bytes) {
    const auto octet = static_cast<uint8_t>(c);
    if (is_attribute_char(octet))
      encoded += c;
    else
      encoded += hex_escape('%', octet);
  }
  return encoded;
}

/// RFC 2231 sections 3 and 4: attribute*0*=utf-8''%..; attribute*1*=%..; and so
/// on, or attribute*=utf-8''%.. when one piece suffices. Each piece fits on a
/// line of its own as " piece;".
std::vector<std::string> extended_parameter(std::string_view attribute, std::string_view value) {
  std::vector<std::string> chunks;
  std::string chunk = std::string(encoded_word_charset) + "''";
  bool chunk_has_value = false;
  for (const std::string_view character : utf8_characters(value)) {
    const std::string encoded = percent_encode(character);
    const std::string name = std::string(attribute) + "*" + std::to_string(chunks.size()) + "*=";
    const size_t line_length = 1 + name.size() + chunk.size() + encoded.size() + 1;
    if (chunk_has_value && line_length > recommended_line_length) {
      chunks.push_back(chunk);
      chunk.clear();
    }
    chunk += encoded;
    chunk_has_value = true;
  }
  chunks.push_back(chunk);

  if (chunks.size() == 1)
    return {std::string(attribute) + "*=" + chunks.front()};

  std::vector<std::string> pieces;
  for (size_t index = 0; index < chunks.size(); ++index)
    pieces.push_back(std::string(attribute) + "*" + std::to_string(index) + "*=" + chunks[index]);
  return pieces;
}

} // namespace

bool is_valid_utf8(std::string_view text) {
  size_t position = 0;
  while (position < text.size()) {
    const size_t length = utf8_sequence_length(text, position);
    if (length == 0)
      return false;
    position += length;
  }
  return true;
}

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<uint8_t>(c) > 0x7F)
      return false;
  }
  return true;
}

void reject_line_breaks(std::string_view field, std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos)
    return;
  throw router_error(std::string(field) +
                     " contains a line break (CR or LF) or NUL; header values must be one line "
                     "of text, so remove those characters");
}

bool is_token(std::string_view text) {
  if (text.empty())
    return false;
  for (const char c : text) {
    if (c <= 0x20 || c >= 0x7F || std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr)
      return false;
  }
  return true;
}

void check_boundary(std::string_view boundary) {
  const bool valid_length = !boundary.empty() && boundary.size() <= 70;
  bool valid_characters = true;
  for (const char c : boundary) {
    if (!is_ascii_alphanumeric(static_cast<uint8_t>(c)) && std::strchr("'()+_,-./:=? ", c) == nullptr)
      valid_characters = false;
  }
  if (valid_length && valid_characters && boundary.back() != ' ')
    return;

  throw router_error("MIME boundary \"" + std::string(boundary) +
                     "\" is invalid; use 1 to 70 letters, digits or '()+_,-./:=? "
                     "characters, not ending in a space");
}

void check_boundary_absent(std::string_view content, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  const bool at_start = content.substr(0, delimiter.size()) == delimiter;
  if (!at_start && content.find("\r\n" + delimiter) == std::string_view::npos)
    return;

  throw router_error("MIME boundary \"" + std::string(boundary) +
                     "\" occurs at the start of a line in the content; generate a new random boundary");
}

std::string header_field(std::string_view name, std::string_view value, size_t width) {
  if (value.empty())
    return std::string(name) + ":\r\n";

  const bool has_encoded_word = value.find("=?") != std::string_view::npos;
  const size_t line_width = has_encoded_word ? std::min(width, encoded_word_line_length) : width;
  const std::vector<std::string> lines = fold_lines(name, value, line_width);
  if (longest_line(lines) > max_line_length)
    throw router_error(std::string(name) + " header field has a line of " +
                       std::to_string(longest_line(lines)) +
                       " octets, over the 998 octet limit; shorten the value");

  std::string field;
  for (const std::string& line : lines)
    field += line + "\r\n";
  return field;
}

std::string subject_value(std::string_view subject) {
  reject_line_breaks("Subject", subject);
  if (!is_valid_utf8(subject))
    throw router_error("Subject is not valid UTF-8; pass the subject as UTF-8 text");

  // A long run without spaces cannot be folded, but encoded-words can split it.
  const bool foldable = longest_line(fold_lines("Subject", subject, recommended_line_length)) <= max_line_length;
  if (is_plain_header_text(subject) && foldable)
    return std::string(subject);

  const size_t first_word_budget = encoded_word_line_length - std::strlen("Subject: ");
  return encoded_words(subject, first_word_budget);
}

std::string mailbox_value(std::string_view field, std::string_view mailbox) {
  reject_line_breaks(std::string(field) + " address", mailbox);

  const std::string_view trimmed = trim_spaces(mailbox);
  const size_t open = trimmed.rfind('<');
  if (trimmed.empty() || trimmed.back() != '>' || open == std::string_view::npos) {
    check_address(field, trimmed);
    return std::string(trimmed);
  }

  const std::string_view address = trimmed.substr(open + 1, trimmed.size() - open - 2);
  const std::string_view display_name = trim_spaces(trimmed.substr(0, open));
  check_address(field, address);
  if (display_name.empty())
    return "<" + std::string(address) + ">";
  return display_name_value(field, display_name) + " <" + std::string(address) + ">";
}

std::vector<std::string> filename_parameter(std::string_view attribute, std::string_view filename) {
  if (is_printable_ascii(filename)) {
    const std::string piece = std::string(attribute) + "=" + quoted_string(filename);
    if (1 + piece.size() + 1 <= recommended_line_length)
      return {piece};
  }
  return extended_parameter(attribute, filename);
}

std::string with_parameters(std::string_view value, const std::vector<std::string>& parameters) {
  std::string joined(value);
  for (const std::string& parameter : parameters)
    joined += "; " + parameter;
  return joined;
}

} // namespace router::mime::detail
