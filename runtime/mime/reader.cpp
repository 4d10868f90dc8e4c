// Entity parsing for the MIME reader: the header block with unfolding, the
// Content-Type value and multipart bodies split at their delimiter lines.
#include "runtime/mime/reader.hpp"

#include "runtime/common/error.hpp"

#include <algorithm>
#include <cctype>

namespace router::mime {

namespace {

std::string to_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower(a) == to_lower(b);
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

/// One line of the input: its text without the line end, and where the next line starts.
struct line {
  std::string_view text;
  size_t next = 0;
  size_t break_length = 0;  // 2 for CR LF, 1 for LF, 0 at the end of the input
};

line line_at(std::string_view text, size_t start) {
  const auto lf = text.find('\n', start);
  if (lf == std::string_view::npos)
    return {text.substr(start), text.size(), 0};
  const bool crlf = lf > start && text[lf - 1] == '\r';
  const size_t end = crlf ? lf - 1 : lf;
  return {text.substr(start, end - start), lf + 1, crlf ? size_t{2} : size_t{1}};
}

bool is_field_name(std::string_view name) {
  // RFC 5322 3.6.8: printable ASCII except ":".
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return c >= 33 && c <= 126 && c != ':';
  });
}

/// Result of reading a header block: the fields and where the body starts.
struct header_block {
  std::vector<std::pair<std::string, std::string>> fields;
  size_t body_start = 0;
};

header_block read_header_block(std::string_view text, const reader_limits& limits) {
  header_block block;
  size_t position = 0;
  while (position < text.size()) {
    const line current = line_at(text, position);
    position = current.next;
    if (current.text.empty()) {
      block.body_start = position;
      return block;
    }
    if (position > limits.max_header_bytes)
      throw router_error("a header block is longer than " + std::to_string(limits.max_header_bytes) + " bytes");

    // RFC 5322 2.2.3: a line that starts with white space continues the field.
    if (current.text.front() == ' ' || current.text.front() == '\t') {
      if (block.fields.empty())
        throw router_error("the header block starts with a continuation line");
      block.fields.back().second += current.text;
      continue;
    }

    const auto colon = current.text.find(':');
    // Obsolete syntax (RFC 5322 4.5) allows white space before the colon.
    const std::string_view name = colon == std::string_view::npos ? std::string_view{} : trim(current.text.substr(0, colon));
    if (!is_field_name(name))
      throw router_error("invalid header line: \"" + std::string(current.text.substr(0, 60)) + "\"");
    block.fields.emplace_back(std::string(name), std::string(current.text.substr(colon + 1)));
  }
  block.body_start = text.size();
  return block;
}

/// Reads Content-Type syntax: tokens, quoted strings and comments (RFC 2045 5.1, RFC 5322 3.2).
class value_scanner {
 public:
  explicit value_scanner(std::string_view text) : text_(text) {}

  bool at_end() {
    skip_white_space_and_comments();
    return position_ >= text_.size();
  }

  bool take(char c) {
    skip_white_space_and_comments();
    if (position_ < text_.size() && text_[position_] == c) {
      ++position_;
      return true;
    }
    return false;
  }

  std::string token(const char* what) {
    skip_white_space_and_comments();
    const size_t start = position_;
    while (position_ < text_.size() && is_token_char(static_cast<unsigned char>(text_[position_])))
      ++position_;
    if (position_ == start)
      throw router_error(std::string("Content-Type: expected ") + what + " in \"" + std::string(text_) + "\"");
    return std::string(text_.substr(start, position_ - start));
  }

  std::string value() {
    skip_white_space_and_comments();
    if (position_ < text_.size() && text_[position_] == '"')
      return quoted_string();
    return token("a parameter value");
  }

 private:
  static bool is_token_char(unsigned char c) {
    // RFC 2045 5.1: any ASCII except space, controls and tspecials.
    return c > 32 && c < 127 && std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
  }

  std::string quoted_string() {
    ++position_;  // opening quote
    std::string out;
    while (position_ < text_.size()) {
      const char c = text_[position_++];
      if (c == '"')
        return out;
      if (c == '\\' && position_ < text_.size())
        out += text_[position_++];
      else
        out += c;
    }
    throw router_error("Content-Type: unterminated quoted string in \"" + std::string(text_) + "\"");
  }

  void skip_white_space_and_comments() {
    size_t depth = 0;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '(')
        return;
      if (c == '(')
        ++depth;
      else if (c == ')' && depth > 0)
        --depth;
      else if (c == '\\' && depth > 0)
        ++position_;
      ++position_;
    }
  }

  std::string_view text_;
  size_t position_ = 0;
};

/// Position of a multipart delimiter line and of the part before it.
struct delimiter {
  size_t line_start = 0;   // the line break before the delimiter, or 0 at the body start
  size_t content_end = 0;  // end of the preceding part: the start of that line break
  size_t next = 0;         // start of the line after the delimiter
  bool closing = false;
};

/// Returns true when a line is "--boundary" or "--boundary--" with optional
/// transport padding (RFC 2046 5.1.1).
bool is_delimiter_line(std::string_view text, std::string_view dash_boundary, bool& closing) {
  if (text.substr(0, dash_boundary.size()) != dash_boundary)
    return false;
  std::string_view rest = text.substr(dash_boundary.size());
  closing = rest.substr(0, 2) == "--";
  if (closing)
    rest.remove_prefix(2);
  return rest.find_first_not_of(" \t") == std::string_view::npos;
}

std::vector<delimiter> find_delimiters(std::string_view body, std::string_view boundary) {
  const std::string dash_boundary = "--" + std::string(boundary);
  std::vector<delimiter> found;
  size_t position = 0;
  size_t previous_break = 0;  // length of the line break before the current line
  while (position < body.size()) {
    const line current = line_at(body, position);
    bool closing = false;
    if (is_delimiter_line(current.text, dash_boundary, closing)) {
      const size_t content_end = position - previous_break;
      found.push_back({position, content_end, current.next, closing});
      if (closing)
        break;
    }
    previous_break = current.break_length;
    position = current.next;
  }
  return found;
}

class entity_parser {
 public:
  explicit entity_parser(const reader_limits& limits) : limits_(limits) {}

  entity parse(std::string_view text, size_t depth) {
    const header_block block = read_header_block(text, limits_);

    entity parsed;
    parsed.headers = block.fields;
    parsed.raw = std::string(text);
    parsed.body = std::string(text.substr(block.body_start));
    const std::string type_field = parsed.header("Content-Type");
    if (!trim(type_field).empty())
      parsed.type = parse_content_type(type_field);
    const std::string encoding = std::string(trim(parsed.header("Content-Transfer-Encoding")));
    parsed.transfer_encoding = encoding.empty() ? "7bit" : to_lower(encoding);

    if (parsed.type.type == "multipart")
      parsed.parts = parse_parts(parsed, depth);
    return parsed;
  }

 private:
  std::vector<entity> parse_parts(const entity& multipart, size_t depth) {
    if (depth >= limits_.max_depth)
      throw router_error("multipart entities are nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    const std::string boundary = multipart.type.parameter("boundary");
    if (boundary.empty())
      throw router_error("the " + multipart.type.media_type() + " entity has no boundary parameter");

    const std::string_view body = multipart.body;
    const std::vector<delimiter> delimiters = find_delimiters(body, boundary);
    if (delimiters.empty() || !delimiters.back().closing)
      throw router_error("the " + multipart.type.media_type() + " body lacks its closing delimiter \"--" + boundary +
                         "--\"");
    if (delimiters.size() < 2)
      throw router_error("the " + multipart.type.media_type() + " body has no parts");

    std::vector<entity> parts;
    for (size_t i = 0; i + 1 < delimiters.size(); ++i) {
      if (++part_count_ > limits_.max_parts)
        throw router_error("the message has more than " + std::to_string(limits_.max_parts) + " body parts");
      const size_t start = delimiters[i].next;
      const size_t end = std::max(start, delimiters[i + 1].content_end);
      parts.push_back(parse(body.substr(start, end - start), depth + 1));
    }
    return parts;
  }

  const reader_limits& limits_;
  size_t part_count_ = 0;
};

} // namespace

std::string content_type::media_type() const {
  return type + "/" + subtype;
}

std::string content_type::parameter(std::string_view name) const {
  for (const auto& [key, value] : parameters) {
    if (equals_ignoring_case(key, name))
      return value;
  }
  return "";
}

std::string entity::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name))
      return std::string(trim(value));
  }
  return "";
}

content_type parse_content_type(std::string_view value) {
  value_scanner scanner(value);
  content_type parsed;
  parsed.type = to_lower(scanner.token("a media type"));
  if (!scanner.take('/'))
    throw router_error("Content-Type: expected \"/\" after the type in \"" + std::string(value) + "\"");
  parsed.subtype = to_lower(scanner.token("a subtype"));

  while (!scanner.at_end()) {
    if (!scanner.take(';'))
      throw router_error("Content-Type: expected \";\" before a parameter in \"" + std::string(value) + "\"");
    if (scanner.at_end())
      break;  // a trailing ";" is common and harmless
    std::string name = to_lower(scanner.token("a parameter name"));
    if (!scanner.take('='))
      throw router_error("Content-Type: expected \"=\" after parameter " + name);
    parsed.parameters.emplace_back(std::move(name), scanner.value());
  }
  return parsed;
}

entity parse_entity(std::string_view text, const reader_limits& limits) {
  entity_parser parser(limits);
  return parser.parse(text, 0);
}

} // namespace router::mime
