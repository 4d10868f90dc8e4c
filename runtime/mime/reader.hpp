// MIME reader (RFC 2045, RFC 2046, RFC 5322) with just enough scope for
// S/MIME (RFC 8551): header fields with folding, Content-Type parameters,
// multipart bodies, and the base64, quoted-printable, 7bit, 8bit and binary
// transfer encodings.
//
// Line ends may be CR LF or bare LF, as messages stored on Unix have them. A
// part's raw bytes are kept exactly as they arrived, because a multipart/signed
// signature covers them byte for byte.
//
// Malformed input and exceeded limits throw router::router_error with a message
// that names the problem. Limits: RFC 2231 parameter continuations and
// charsets are not decoded, and message/rfc822 parts are not descended into.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace router::mime {

/// Bounds that keep a crafted message from exhausting memory or the stack.
struct reader_limits {
  size_t max_header_bytes = 64 * 1024;  // header block of one entity
  size_t max_depth = 8;                 // multipart nesting below the top-level entity
  size_t max_parts = 256;               // body parts in the whole message
};

/// A parsed Content-Type value; type, subtype and parameter names are lower case.
struct content_type {
  std::string type = "text";
  std::string subtype = "plain";
  std::vector<std::pair<std::string, std::string>> parameters;

  /// Returns "type/subtype".
  std::string media_type() const;

  /// Returns the value of a parameter (name in any case), or an empty string.
  std::string parameter(std::string_view name) const;
};

/// One MIME entity: its header fields, body and, for a multipart, its parts.
struct entity {
  std::vector<std::pair<std::string, std::string>> headers;  // unfolded values, in input order
  mime::content_type type;                                    // text/plain when the field is absent
  std::string transfer_encoding;                              // lower case; "7bit" when absent
  std::string raw;                                            // header, empty line and body as they arrived
  std::string body;                                           // body as it arrived, still encoded
  std::vector<entity> parts;                                  // multipart only

  /// Returns the first value of a header field (name in any case), or an empty string.
  std::string header(std::string_view name) const;
};

/// Parses a message or entity; throws router_error.
entity parse_entity(std::string_view text, const reader_limits& limits = {});

/// Parses a Content-Type field value (RFC 2045 section 5.1); throws router_error.
content_type parse_content_type(std::string_view value);

/// Returns the body with its Content-Transfer-Encoding removed; throws router_error.
std::vector<uint8_t> decode_body(const entity& part);

/// Decodes base64, ignoring line breaks and other white space; throws router_error.
std::vector<uint8_t> decode_base64(std::string_view text);

/// Decodes quoted-printable (RFC 2045 section 6.7). An "=" that starts no valid
/// escape is kept as it is, as rule 1 suggests for robust decoders.
std::vector<uint8_t> decode_quoted_printable(std::string_view text);

/// Kinds of S/MIME entity the reader finds.
enum class smime_kind { none, multipart_signed, pkcs7_mime };

/// The S/MIME entity of a message, as find_smime() locates it.
struct smime_entity {
  smime_kind kind = smime_kind::none;

  // multipart/signed (RFC 8551 section 3.5.3)
  std::string signed_bytes;         // the first part exactly as it arrived
  std::vector<uint8_t> signature;   // the DER of the second part
  std::string micalg;

  // application/pkcs7-mime (RFC 8551 section 3.2)
  std::vector<uint8_t> der;
  std::string smime_type;  // from the parameter, else detected from the DER; "" when unknown
};

/// Finds the first multipart/signed with an S/MIME protocol, or the first
/// application/pkcs7-mime, depth first. Both the pkcs7 and the x-pkcs7 type
/// names are accepted. Throws router_error when the entity found is malformed.
smime_entity find_smime(const entity& message);

/// Returns the smime-type that matches a DER ContentInfo ("signed-data",
/// "enveloped-data", "authEnveloped-data", "compressed-data"), or "".
std::string detect_smime_type(const std::vector<uint8_t>& der);

} // namespace router::mime
