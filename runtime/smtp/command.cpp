#include "runtime/smtp/command.hpp"

#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace router::smtp {

namespace {

struct verb_entry {
  const char* name;
  verb value;
};

constexpr std::array<verb_entry, 12> verbs{{{"EHLO", verb::ehlo},
                                            {"HELO", verb::helo},
                                            {"MAIL", verb::mail},
                                            {"RCPT", verb::rcpt},
                                            {"DATA", verb::data},
                                            {"RSET", verb::rset},
                                            {"NOOP", verb::noop},
                                            {"QUIT", verb::quit},
                                            {"VRFY", verb::vrfy},
                                            {"EXPN", verb::expn},
                                            {"HELP", verb::help},
                                            {"STARTTLS", verb::starttls}}};

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equals_ignoring_case(std::string_view text, std::string_view capitals) {
  if (text.size() != capitals.size())
    return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (upper(text[i]) != capitals[i])
      return false;
  return true;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view capitals) {
  return text.size() >= capitals.size() && equals_ignoring_case(text.substr(0, capitals.size()), capitals);
}

bool is_alpha_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// atext of RFC 5322, the characters of an unquoted local part besides dots.
bool is_atext(char c) {
  return is_alpha_digit(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool is_printable_ascii(unsigned char c) {
  return c >= 0x21 && c <= 0x7e;
}

bool has_non_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 0x80)
      return true;
  return false;
}

reply make_error(int code, const char* status, std::string text) {
  return reply{code, status, std::move(text)};
}

bool valid_local_part(std::string_view local) {
  if (local.empty())
    return false;
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"')
      return false;
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      const auto c = static_cast<unsigned char>(local[i]);
      if (c == '\\') {
        // quoted-pairSMTP: a backslash and any printable character or space.
        if (i + 2 >= local.size())
          return false;
        const auto quoted = static_cast<unsigned char>(local[++i]);
        if (quoted < 0x20 || quoted > 0x7e)
          return false;
        continue;
      }
      if (c == '"' || c < 0x20 || c > 0x7e)
        return false;
    }
    return true;
  }
  // A dot-string. Doubled, leading and trailing dots are let through, as
  // some mail systems still hand out such addresses.
  bool has_atext = false;
  for (char c : local) {
    if (c == '.')
      continue;
    if (!is_atext(c))
      return false;
    has_atext = true;
  }
  return has_atext;
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 255)
    return false;
  if (domain.front() == '[') {
    // An address literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]".
    if (domain.size() < 3 || domain.back() != ']')
      return false;
    for (size_t i = 1; i + 1 < domain.size(); ++i) {
      const char c = domain[i];
      if (!is_printable_ascii(static_cast<unsigned char>(c)) || c == '[' || c == ']' || c == '\\')
        return false;
    }
    return true;
  }
  // Labels of letters, digits and hyphens, 1 to 63 octets, with no hyphen
  // at either end.
  size_t label_length = 0;
  char previous = '.';
  for (char c : domain) {
    if (c == '.') {
      if (label_length == 0 || previous == '-')
        return false;
      label_length = 0;
    } else if (is_alpha_digit(c) || (c == '-' && label_length > 0)) {
      if (++label_length > 63)
        return false;
    } else {
      return false;
    }
    previous = c;
  }
  return label_length > 0 && previous != '-';
}

/// Finds the '>' that closes a path starting with '<' at position 0, skipping
/// quoted strings; npos when there is none.
size_t closing_bracket(std::string_view text) {
  bool quoted = false;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '\\') {
      ++i;
      continue;
    }
    if (c == '"')
      quoted = !quoted;
    else if (c == '>' && !quoted)
      return i;
  }
  return std::string_view::npos;
}

/// Removes an obsolete source route ("@a.example,@b.example:") from a path;
/// returns false when the route is malformed.
bool strip_source_route(std::string_view& path) {
  if (path.empty() || path.front() != '@')
    return true;
  const auto colon = path.find(':');
  if (colon == std::string_view::npos)
    return false;
  std::string_view route = path.substr(0, colon);
  while (!route.empty()) {
    if (route.front() != '@')
      return false;
    const auto comma = route.find(',');
    if (!valid_domain(route.substr(1, comma == std::string_view::npos ? std::string_view::npos : comma - 1)))
      return false;
    route = comma == std::string_view::npos ? std::string_view() : route.substr(comma + 1);
    if (comma != std::string_view::npos && route.empty())
      return false;
  }
  path = path.substr(colon + 1);
  return true;
}

/// Parses a SIZE= value; saturates instead of overflowing.
std::optional<uint64_t> parse_size(std::string_view value) {
  if (value.empty() || value.size() > 40)
    return std::nullopt;
  uint64_t size = 0;
  for (char c : value) {
    if (!is_digit(c))
      return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (size > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      size = std::numeric_limits<uint64_t>::max();
    else
      size = size * 10 + digit;
  }
  return size;
}

bool valid_keyword(std::string_view keyword) {
  if (keyword.empty() || !is_alpha_digit(keyword.front()))
    return false;
  for (char c : keyword)
    if (!is_alpha_digit(c) && c != '-')
      return false;
  return true;
}

/// Names a parameter keyword in a reply; it is known to be short and clean.
std::string keyword_text(std::string_view keyword) {
  std::string text;
  for (char c : keyword.substr(0, 20))
    text += upper(c);
  return text;
}

/// Parses the ESMTP parameters after a MAIL or RCPT path into `result`.
void parse_parameters(std::string_view text, bool mail, command& result) {
  bool seen_size = false;
  bool seen_body = false;
  while (!text.empty()) {
    if (text.front() == ' ') {
      text.remove_prefix(1);
      continue;
    }
    const auto end = text.find(' ');
    const std::string_view parameter = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end);

    const auto equals = parameter.find('=');
    const std::string_view keyword = parameter.substr(0, equals);
    const bool has_value = equals != std::string_view::npos;
    const std::string_view value = has_value ? parameter.substr(equals + 1) : std::string_view();
    if (!valid_keyword(keyword)) {
      result.error = make_error(501, "5.5.4", "Syntax error in the parameters; write them as KEYWORD=value");
      return;
    }
    for (char c : value)
      if (!is_printable_ascii(static_cast<unsigned char>(c)) || c == '=') {
        result.error = make_error(501, "5.5.4", "Syntax error in the value of " + keyword_text(keyword));
        return;
      }
    if (has_value && value.empty()) {
      result.error = make_error(501, "5.5.4", "Parameter " + keyword_text(keyword) + "= has no value");
      return;
    }
    result.has_parameters = true;

    if (mail && equals_ignoring_case(keyword, "SIZE")) {
      const auto size = parse_size(value);
      if (seen_size || !size) {
        result.error = make_error(501, "5.5.4", "SIZE= must be given once, as a number of octets");
        return;
      }
      seen_size = true;
      result.size = size;
    } else if (mail && equals_ignoring_case(keyword, "BODY")) {
      if (seen_body || !has_value) {
        result.error = make_error(501, "5.5.4", "BODY= must be given once, as 7BIT or 8BITMIME");
        return;
      }
      seen_body = true;
      if (equals_ignoring_case(value, "7BIT")) {
        result.body = body_type::seven_bit;
      } else if (equals_ignoring_case(value, "8BITMIME")) {
        result.body = body_type::eight_bit_mime;
      } else {
        result.error = make_error(555, "5.5.4", "BODY= supports 7BIT and 8BITMIME only");
        return;
      }
    } else {
      result.error = make_error(555, "5.5.4", "Parameter " + keyword_text(keyword) + " is not supported");
      return;
    }
  }
}

/// Parses "FROM:<path> [parameters]" or "TO:<path> [parameters]".
void parse_path_command(std::string_view argument, bool mail, command& result) {
  const std::string_view prefix = mail ? "FROM:" : "TO:";
  const std::string syntax = mail ? "Syntax: MAIL FROM:<address> [SIZE=octets] [BODY=7BIT|8BITMIME]"
                                  : "Syntax: RCPT TO:<address>";
  if (!starts_with_ignoring_case(argument, prefix)) {
    result.error = make_error(501, "5.5.2", syntax);
    return;
  }
  std::string_view rest = argument.substr(prefix.size());
  // RFC 5321 has no space after the colon, but many clients send one.
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '<') {
    result.error = make_error(501, "5.5.2", syntax + "; the address needs angle brackets");
    return;
  }
  const auto close = closing_bracket(rest);
  if (close == std::string_view::npos) {
    result.error = make_error(501, "5.5.2", syntax + "; the closing > is missing");
    return;
  }
  std::string_view path = rest.substr(1, close - 1);
  const std::string_view parameters = rest.substr(close + 1);
  if (!parameters.empty() && parameters.front() != ' ') {
    result.error = make_error(501, "5.5.2", syntax + "; separate parameters from the address with a space");
    return;
  }

  if (path.empty()) {
    if (!mail) {
      result.error = make_error(501, "5.5.4", "RCPT TO:<> names no recipient");
      return;
    }
  } else {
    if (path.size() > max_path_length) {
      result.error = make_error(501, "5.5.4", "The address is longer than " + std::to_string(max_path_length) +
                                                  " octets");
      return;
    }
    if (has_non_ascii(path)) {
      result.error = make_error(501, "5.5.4", "The address has non-ASCII characters; SMTPUTF8 is not offered");
      return;
    }
    if (!strip_source_route(path)) {
      result.error = make_error(501, "5.5.4", "The source route before the address is malformed");
      return;
    }
    // RFC 5321 4.5.1: RCPT TO:<Postmaster> without a domain must be accepted.
    const bool postmaster = !mail && equals_ignoring_case(path, "POSTMASTER");
    if (!postmaster && !valid_mailbox(path)) {
      result.error = make_error(501, "5.5.4", mail ? "The sender address is not a valid mailbox"
                                                   : "The recipient address is not a valid mailbox");
      return;
    }
    result.address = std::string(path);
  }
  parse_parameters(parameters, mail, result);
}

bool has_control_characters(std::string_view line) {
  for (unsigned char c : line)
    if (c < 0x20 || c == 0x7f)
      return true;
  return false;
}

} // namespace

const char* verb_name(verb name) {
  for (const auto& entry : verbs)
    if (entry.value == name)
      return entry.name;
  return "UNKNOWN";
}

verb verb_of(std::string_view line) {
  // The verb is the leading run of letters, ended by the end of the line, a
  // space or a control character.
  size_t length = 0;
  while (length < line.size() && ((line[length] >= 'a' && line[length] <= 'z') ||
                                  (line[length] >= 'A' && line[length] <= 'Z')))
    ++length;
  if (length < line.size() && line[length] != ' ' && static_cast<unsigned char>(line[length]) >= 0x20 &&
      line[length] != 0x7f)
    return verb::unknown;
  const std::string_view word = line.substr(0, length);
  for (const auto& entry : verbs)
    if (equals_ignoring_case(word, entry.name))
      return entry.value;
  return verb::unknown;
}

bool valid_mailbox(std::string_view mailbox) {
  if (mailbox.empty() || has_non_ascii(mailbox))
    return false;
  // The domain follows the last '@'; a quoted local part may hold '@' itself.
  const auto at = mailbox.rfind('@');
  if (at == std::string_view::npos || at == 0)
    return false;
  return valid_local_part(mailbox.substr(0, at)) && valid_domain(mailbox.substr(at + 1));
}

command parse_command(std::string_view line) {
  command result;
  result.name = verb_of(line);
  if (has_control_characters(line)) {
    result.error = make_error(500, "5.5.2", "Syntax error: the command line has control characters");
    return result;
  }
  while (!line.empty() && line.back() == ' ')
    line.remove_suffix(1);
  if (line.empty()) {
    result.name = verb::unknown;
    result.error = make_error(500, "5.5.2", "Syntax error: empty command line");
    return result;
  }
  const auto space = line.find(' ');
  std::string_view argument = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  while (!argument.empty() && argument.front() == ' ')
    argument.remove_prefix(1);
  result.argument = std::string(argument);

  switch (result.name) {
    case verb::unknown:
      result.error = make_error(500, "5.5.1", "Command not recognized");
      break;
    case verb::ehlo:
    case verb::helo: {
      const std::string name = verb_name(result.name);
      if (argument.empty())
        result.error = make_error(501, "5.5.4", "Syntax: " + name + " <your host name>");
      else if (argument.find(' ') != std::string_view::npos || has_non_ascii(argument))
        result.error = make_error(501, "5.5.4", "Syntax: " + name + " <your host name>, one ASCII word");
      break;
    }
    case verb::data:
    case verb::rset:
    case verb::quit:
    case verb::starttls:
      if (!argument.empty())
        result.error = make_error(501, "5.5.4", std::string("Syntax: ") + verb_name(result.name) +
                                                    " takes no argument");
      break;
    case verb::vrfy:
    case verb::expn:
      if (argument.empty())
        result.error = make_error(501, "5.5.4", std::string("Syntax: ") + verb_name(result.name) + " <address>");
      break;
    case verb::mail:
      parse_path_command(argument, true, result);
      break;
    case verb::rcpt:
      parse_path_command(argument, false, result);
      break;
    case verb::noop:
    case verb::help:
      break;
  }
  return result;
}

} // namespace router::smtp
