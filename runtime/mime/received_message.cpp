#include "runtime/mime/received_message.hpp"

#include <algorithm>
#include <cctype>

namespace router::mime {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

/// Returns the field name of a header line, or "" when the line is not a field.
std::string_view field_name_of(std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return {};
  // Obsolete syntax (RFC 5322 section 4.5) allows white space before the colon.
  const std::string_view name = trim(line.substr(0, colon));
  const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return c >= 33 && c <= 126 && c != ':';
  });
  return valid ? name : std::string_view{};
}

/// Returns the text of the line that starts at `start` without its line break.
std::string_view line_text(std::string_view message, size_t start, size_t next) {
  std::string_view line = message.substr(start, next - start);
  if (!line.empty() && line.back() == '\n')
    line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

} // namespace

std::string received_parts::field(std::string_view name) const {
  for (const auto& candidate : fields) {
    if (equals_ignoring_case(candidate.name, name))
      return candidate.value;
  }
  return "";
}

std::vector<received_field> received_parts::fields_named(std::string_view name) const {
  std::vector<received_field> found;
  for (const auto& candidate : fields) {
    if (equals_ignoring_case(candidate.name, name))
      found.push_back(candidate);
  }
  return found;
}

received_parts split_received_message(std::string_view message) {
  received_parts parts;
  std::string unfolded;  // value of the field being read, before trimming

  auto finish_field = [&] {
    if (!parts.fields.empty())
      parts.fields.back().value = std::string(trim(unfolded));
  };

  size_t position = 0;
  while (position < message.size()) {
    const auto lf = message.find('\n', position);
    const size_t next = lf == std::string_view::npos ? message.size() : lf + 1;
    const std::string_view text = line_text(message, position, next);

    if (text.empty() && lf != std::string_view::npos) {
      finish_field();
      parts.body = std::string(message.substr(next));
      return parts;
    }

    // RFC 5322 section 2.2.3: a line that starts with white space continues the field.
    const bool continuation = !text.empty() && (text.front() == ' ' || text.front() == '\t');
    if (continuation && !parts.fields.empty()) {
      parts.fields.back().raw += message.substr(position, next - position);
      unfolded += text;
      position = next;
      continue;
    }

    const std::string_view name = continuation ? std::string_view{} : field_name_of(text);
    if (name.empty())
      break;

    finish_field();
    received_field field;
    field.name = std::string(name);
    field.raw = std::string(message.substr(position, next - position));
    parts.fields.push_back(std::move(field));
    unfolded = std::string(text.substr(text.find(':') + 1));
    position = next;
  }

  finish_field();
  parts.body = std::string(message.substr(std::min(position, message.size())));
  parts.body_after_empty_line = parts.body.empty();
  return parts;
}

bool is_content_field(std::string_view name) {
  constexpr std::string_view prefix = "content-";
  return name.size() > prefix.size() && equals_ignoring_case(name.substr(0, prefix.size()), prefix);
}

std::string received_content_entity(std::string_view message) {
  const received_parts parts = split_received_message(message);

  std::string entity;
  const bool has_type = std::any_of(parts.fields.begin(), parts.fields.end(), [](const received_field& field) {
    return equals_ignoring_case(field.name, "Content-Type");
  });
  if (!has_type)
    entity += "Content-Type: text/plain; charset=us-ascii\r\n";

  for (const auto& field : parts.fields) {
    if (!is_content_field(field.name))
      continue;
    entity += field.raw;
    // The last header line of a message may lack its line break.
    if (entity.back() != '\n')
      entity += "\r\n";
  }
  entity += "\r\n";
  entity += parts.body;
  return entity;
}

size_t find_lone_line_break(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const bool lone_cr = text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n');
    const bool lone_lf = text[i] == '\n' && (i == 0 || text[i - 1] != '\r');
    if (lone_cr || lone_lf)
      return i;
  }
  return std::string_view::npos;
}

} // namespace router::mime
