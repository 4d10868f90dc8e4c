#include "runtime/reception/message_fields.hpp"

#include "runtime/common/error.hpp"
#include "runtime/config/config.hpp"
#include "runtime/mime/header_fields.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/mime/reader.hpp"
#include "runtime/smtp/connection.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

namespace router::reception {

namespace {

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string latin1_to_utf8(const std::string& bytes) {
  std::string text;
  for (const char c : bytes) {
    const auto octet = static_cast<uint8_t>(c);
    if (octet < 0x80) {
      text += c;
      continue;
    }
    text += static_cast<char>(0xC0 | (octet >> 6));
    text += static_cast<char>(0x80 | (octet & 0x3F));
  }
  return text;
}

/// Decodes one encoded-word "=?charset?B|Q?text?=" (RFC 2047 section 2), or
/// returns nothing when it is malformed or its charset is not one we convert.
std::optional<std::string> decode_word(std::string_view word) {
  if (word.size() < 8 || word.substr(0, 2) != "=?" || word.substr(word.size() - 2) != "?=")
    return std::nullopt;
  const std::string_view inner = word.substr(2, word.size() - 4);
  const auto first = inner.find('?');
  const auto second = first == std::string_view::npos ? first : inner.find('?', first + 1);
  if (second == std::string_view::npos || second != first + 2)
    return std::nullopt;

  // RFC 2231 section 5 allows "charset*language".
  std::string charset = to_lower(std::string(inner.substr(0, first)));
  charset = charset.substr(0, charset.find('*'));
  const char encoding = static_cast<char>(std::toupper(static_cast<unsigned char>(inner[first + 1])));
  const std::string_view text = inner.substr(second + 1);

  std::string bytes;
  try {
    if (encoding == 'B') {
      const auto decoded = mime::decode_base64(text);
      bytes.assign(decoded.begin(), decoded.end());
    } else if (encoding == 'Q') {
      std::string underscores_as_spaces(text);
      std::replace(underscores_as_spaces.begin(), underscores_as_spaces.end(), '_', ' ');
      const auto decoded = mime::decode_quoted_printable(underscores_as_spaces);
      bytes.assign(decoded.begin(), decoded.end());
    } else {
      return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }

  if (charset == "utf-8" || charset == "us-ascii")
    return bytes;
  if (charset == "iso-8859-1" || charset == "latin1")
    return latin1_to_utf8(bytes);
  return std::nullopt;
}

/// Replaces bytes that are not UTF-8 with '?' and control characters with spaces.
std::string sanitize(const std::string& text) {
  std::string clean;
  size_t position = 0;
  while (position < text.size()) {
    size_t length = 1;
    while (length <= 4 && position + length <= text.size() &&
           !mime::detail::is_valid_utf8(std::string_view(text).substr(position, length)))
      ++length;
    if (length > 4 || position + length > text.size()) {
      clean += '?';
      ++position;
      continue;
    }
    const std::string_view character = std::string_view(text).substr(position, length);
    const auto octet = static_cast<uint8_t>(character.front());
    clean += (length == 1 && (octet < 0x20 || octet == 0x7F)) ? std::string(" ") : std::string(character);
    position += length;
  }
  return clean;
}

} // namespace

std::string readable_subject(std::string_view unfolded) {
  std::string decoded;
  bool previous_was_word = false;
  size_t position = 0;
  while (position < unfolded.size()) {
    const auto start = unfolded.find("=?", position);
    if (start == std::string_view::npos) {
      decoded += unfolded.substr(position);
      break;
    }

    // "=?" charset "?" encoding "?" text "?="
    const auto charset_end = unfolded.find('?', start + 2);
    const auto encoding_end = charset_end == std::string_view::npos ? charset_end : unfolded.find('?', charset_end + 1);
    const auto end = encoding_end == std::string_view::npos ? encoding_end : unfolded.find("?=", encoding_end + 1);
    const std::optional<std::string> word =
        end == std::string_view::npos ? std::nullopt : decode_word(unfolded.substr(start, end + 2 - start));
    if (!word) {
      decoded += unfolded.substr(position, start + 2 - position);
      previous_was_word = false;
      position = start + 2;
      continue;
    }

    // White space between two encoded-words is dropped (RFC 2047 section 6.2).
    const std::string_view between = unfolded.substr(position, start - position);
    const bool only_space = between.find_first_not_of(" \t") == std::string_view::npos;
    if (!(previous_was_word && only_space))
      decoded += between;
    decoded += *word;
    previous_was_word = true;
    position = end + 2;
  }
  return sanitize(decoded);
}

std::string from_address(std::string_view value) {
  std::string address(value);
  const auto open = address.rfind('<');
  const auto close = address.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open)
    address = address.substr(open + 1, close - open - 1);

  const auto first = address.find_first_not_of(" \t");
  const auto last = address.find_last_not_of(" \t");
  address = first == std::string::npos ? "" : address.substr(first, last - first + 1);
  return config::is_valid_address(address) ? address : "";
}

namespace {

/// Returns true for a domain name: dot-separated labels of letters, digits
/// and hyphens, none empty and none starting or ending with a hyphen.
bool is_domain(std::string_view text) {
  if (text.empty() || text.size() > 255)
    return false;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const std::string_view label = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (const char c : label)
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-')
        return false;
    if (dot == std::string_view::npos)
      return true;
    start = dot + 1;
  }
}

/// Returns true for an IPv4 address literal such as "[192.0.2.7]" or an IPv6
/// one such as "[IPv6:2001:db8::7]" (RFC 5321 section 4.1.3).
bool is_address_literal(std::string_view text) {
  if (text.size() < 3 || text.front() != '[' || text.back() != ']')
    return false;
  std::string inside(text.substr(1, text.size() - 2));
  unsigned char address[16];
  constexpr std::string_view ipv6_tag = "IPv6:";
  if (inside.compare(0, ipv6_tag.size(), ipv6_tag) == 0)
    return ::inet_pton(AF_INET6, inside.c_str() + ipv6_tag.size(), address) == 1;
  return ::inet_pton(AF_INET, inside.c_str(), address) == 1;
}

/// Returns true for the two forms RFC 5321 allows after EHLO.
bool is_domain_or_literal(std::string_view text) {
  return is_domain(text) || is_address_literal(text);
}

/// Returns the address literal for a peer such as "192.0.2.7:53412" or
/// "[2001:db8::7]:53412", or "" when the peer text is not HOST:PORT.
std::string address_literal(const std::string& peer) {
  std::string host;
  try {
    host = smtp::split_host_port(peer).first;
  } catch (const router_error&) {
    return "";
  }
  const std::string literal = host.find(':') != std::string::npos ? "[IPv6:" + host + "]" : "[" + host + "]";
  return is_address_literal(literal) ? literal : "";
}

/// Returns true when an address can stand in the for clause as received:
/// printable ASCII without spaces.
bool is_plain_address(std::string_view address) {
  if (address.empty())
    return false;
  for (const char c : address)
    if (c <= ' ' || c > '~')
      return false;
  return true;
}

} // namespace

std::string received_field(const smtp::received_envelope& envelope, std::string_view host_name,
                           int64_t unix_seconds) {
  std::string field = "Received: from ";
  field += is_domain_or_literal(envelope.helo) ? envelope.helo : "unknown";
  const std::string literal = address_literal(envelope.peer);
  if (!literal.empty())
    field += " (" + literal + ")";
  field += "\r\n\tby ";
  field += is_domain_or_literal(host_name) ? std::string(host_name) : "localhost";
  // RFC 5321 section 4.4 and RFC 3848: ESMTPS after STARTTLS, ESMTP after
  // EHLO, SMTP after HELO.
  field += envelope.tls ? " with ESMTPS" : (envelope.extended ? " with ESMTP" : " with SMTP");
  if (!envelope.session_id.empty())
    field += " id " + envelope.session_id;
  if (envelope.recipients.size() == 1 && is_plain_address(envelope.recipients.front()))
    field += "\r\n\tfor <" + envelope.recipients.front() + ">";
  field += "; " + mime::format_date(unix_seconds) + "\r\n";
  return field;
}

} // namespace router::reception
