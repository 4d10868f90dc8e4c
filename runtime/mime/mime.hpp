// MIME (RFC 2045, RFC 5322) and S/MIME (RFC 8551) entity builders.
//
// An "entity" here is a header block, an empty line and a body, with CRLF line
// ends only. Builders apply the Content-Transfer-Encoding they declare, keep
// base64 lines at 76 characters and never emit a line longer than 998 octets.
// Pure: boundaries and dates are passed in by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace router::mime {

struct attachment {
  std::string filename;
  std::string content_type;
  std::vector<uint8_t> data;
};

/// The top-level RFC 5322 fields of a message.
struct message_headers {
  std::string from;
  std::vector<std::string> to;
  std::string subject;      // UTF-8; encoded as RFC 2047 words when not ASCII
  std::string date;         // RFC 5322 date-time, see format_date()
  std::string message_id;   // with angle brackets
};

/// Converts any mix of LF, CR LF and lone CR line ends to CR LF.
std::string canonicalize_line_ends(std::string_view text);

/// Encodes bytes as base64 in lines of 76 characters, each ended by CR LF.
std::string base64_lines(const std::vector<uint8_t>& data);

/// Builds the document entity: a text/plain part alone, or multipart/mixed with
/// the text first and each attachment base64-encoded. The boundary must not occur
/// in the content; callers pass a random one.
std::string build_document_entity(std::string_view body_text,
                                  const std::vector<attachment>& attachments,
                                  std::string_view boundary);

/// Builds a detached multipart/signed entity around a canonical entity.
std::string build_signed_entity(std::string_view signed_entity,
                                const std::vector<uint8_t>& signature_der,
                                std::string_view micalg, std::string_view boundary);

/// Builds an application/pkcs7-mime entity; smime_type is "enveloped-data",
/// "authEnveloped-data" or "signed-data".
std::string build_pkcs7_mime_entity(const std::vector<uint8_t>& cms_der, std::string_view smime_type);

/// Prepends the RFC 5322 fields and MIME-Version to an entity.
std::string build_message(const message_headers& headers, std::string_view entity);

/// Formats seconds since the Unix epoch as an RFC 5322 date in UTC.
std::string format_date(int64_t unix_seconds);

} // namespace router::mime
