#include "runtime/reception/encrypted_content.hpp"

#include "runtime/common/error.hpp"
#include "runtime/mime/reader.hpp"
#include "runtime/mime/received_message.hpp"

#include <botan/base64.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>
#include <vector>

namespace router::reception {

namespace {

/// Enough decoded octets for the ContentInfo tag, a long length and the OID.
constexpr size_t prefix_octets = 48;

/// DER contents of the content type OIDs (RFC 5652 section 3, RFC 5083 section 1).
constexpr std::array<uint8_t, 9> enveloped_data_oid{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03};
constexpr std::array<uint8_t, 11> auth_enveloped_data_oid{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                                          0x01, 0x09, 0x10, 0x01, 0x17};

std::string to_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

/// A header value split into its first part and its parameters.
struct header_value {
  std::string media_type;  // lower case; for Content-Disposition the disposition type
  std::vector<std::pair<std::string, std::string>> parameters;  // names in lower case

  std::string parameter(std::string_view name) const {
    for (const auto& [key, value] : parameters) {
      if (key == name)
        return value;
    }
    return "";
  }
};

/// Splits "value; name=value; name="quoted value"" without failing on bad
/// syntax. A piece without "=" is skipped. An unquoted value ends at white
/// space or a comment, and a quoted one at its closing quote or at the end.
header_value split_leniently(std::string_view text) {
  std::vector<std::string> pieces(1);
  bool quoted = false;
  for (const char c : text) {
    if (c == '"')
      quoted = !quoted;
    if (c == ';' && !quoted) {
      pieces.emplace_back();
      continue;
    }
    pieces.back() += c;
  }

  header_value value;
  value.media_type = to_lower(trim(pieces.front()));
  for (size_t i = 1; i < pieces.size(); ++i) {
    const auto equals = pieces[i].find('=');
    if (equals == std::string::npos)
      continue;
    std::string parameter = trim(pieces[i].substr(equals + 1));
    if (!parameter.empty() && parameter.front() == '"')
      parameter = parameter.substr(1, parameter.find('"', 1) - 1);
    else
      parameter = parameter.substr(0, parameter.find_first_of(" \t("));
    value.parameters.emplace_back(to_lower(trim(pieces[i].substr(0, equals))), parameter);
  }
  return value;
}

/// Reads a Content-Type value by the RFC 2045 rules, or leniently when it
/// breaks them, so a sloppy encrypted message is still recognised.
header_value read_content_type(const std::string& text) {
  try {
    const mime::content_type parsed = mime::parse_content_type(text);
    header_value value;
    value.media_type = parsed.media_type();
    value.parameters = parsed.parameters;
    return value;
  } catch (const router_error&) {
    return split_leniently(text);
  }
}

bool ends_with_p7m(const std::string& name) {
  const std::string lower = to_lower(name);
  return lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".p7m") == 0;
}

/// Decodes the first octets of a body; returns fewer (or none) when it cannot.
std::vector<uint8_t> decode_prefix(const std::string& body, const std::string& transfer_encoding) {
  if (transfer_encoding == "base64") {
    std::string characters;
    for (const char c : body) {
      if (std::isspace(static_cast<unsigned char>(c)) != 0)
        continue;
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/' && c != '=')
        break;
      characters += c;
      if (characters.size() >= prefix_octets / 3 * 4)
        break;
    }
    characters.resize(characters.size() / 4 * 4);
    try {
      const auto decoded = Botan::base64_decode(characters);
      return std::vector<uint8_t>(decoded.begin(), decoded.end());
    } catch (const std::exception&) {
      return {};
    }
  }
  if (transfer_encoding == "quoted-printable")
    return mime::decode_quoted_printable(std::string_view(body).substr(0, prefix_octets * 3));

  const size_t length = std::min(body.size(), prefix_octets);
  return std::vector<uint8_t>(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(length));
}

/// Returns the DER contents of the contentType OID at the start of a
/// ContentInfo SEQUENCE, or nothing when the octets do not start one.
std::vector<uint8_t> content_type_oid(const std::vector<uint8_t>& octets) {
  size_t position = 0;
  auto next = [&](uint8_t& octet) {
    if (position >= octets.size())
      return false;
    octet = octets[position++];
    return true;
  };

  uint8_t octet = 0;
  if (!next(octet) || octet != 0x30)
    return {};
  if (!next(octet))
    return {};
  // A long definite length (0x81-0x84) is followed by its octets; 0x80 is the
  // indefinite length of BER, which S/MIME agents also send.
  if (octet > 0x84)
    return {};
  if (octet > 0x80)
    position += octet & 0x7F;

  uint8_t length = 0;
  if (!next(octet) || octet != 0x06 || !next(length) || length > 0x7F)
    return {};
  if (position + length > octets.size())
    return {};
  return std::vector<uint8_t>(octets.begin() + static_cast<std::ptrdiff_t>(position),
                              octets.begin() + static_cast<std::ptrdiff_t>(position + length));
}

template <size_t size>
bool equals(const std::vector<uint8_t>& oid, const std::array<uint8_t, size>& expected) {
  return oid.size() == size && std::equal(oid.begin(), oid.end(), expected.begin());
}

/// Checks the CMS content type of the body; `described` names the entity in the reason.
encryption_check check_body(const mime::received_parts& parts, const std::string& described) {
  const std::string transfer_encoding = to_lower(trim(parts.field("Content-Transfer-Encoding")));
  const std::vector<uint8_t> oid = content_type_oid(decode_prefix(parts.body, transfer_encoding));
  if (equals(oid, enveloped_data_oid))
    return {true, described + " with CMS enveloped-data (1.2.840.113549.1.7.3)"};
  if (equals(oid, auth_enveloped_data_oid))
    return {true, described + " with CMS authEnveloped-data (1.2.840.113549.1.9.16.1.23)"};
  return {};
}

} // namespace

encryption_check check_encrypted_content(std::string_view message) {
  const mime::received_parts parts = mime::split_received_message(message);
  const std::string type_text = parts.field("Content-Type");
  if (type_text.empty())
    return {};

  const header_value type = read_content_type(type_text);
  if (type.media_type == "application/pkcs7-mime" || type.media_type == "application/x-pkcs7-mime") {
    const std::string smime_type = to_lower(type.parameter("smime-type"));
    if (smime_type == "enveloped-data" || smime_type == "authenveloped-data")
      return {true, type.media_type + "; smime-type=" + type.parameter("smime-type")};
    // The body decides when smime-type is missing or unknown, and also when it
    // names a content that is not encrypted, so a wrong label does not pass.
    const std::string label = smime_type.empty() ? " without smime-type"
                                                 : "; smime-type=" + type.parameter("smime-type");
    return check_body(parts, type.media_type + label);
  }

  if (type.media_type == "application/octet-stream") {
    const header_value disposition = split_leniently(parts.field("Content-Disposition"));
    if (ends_with_p7m(type.parameter("name")) || ends_with_p7m(disposition.parameter("filename")))
      return check_body(parts, "application/octet-stream named *.p7m");
  }
  return {};
}

} // namespace router::reception
