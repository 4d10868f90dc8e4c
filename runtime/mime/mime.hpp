// MIME (RFC 2045, RFC 5322) and S/MIME (RFC 8551) entity builders.
//
// An "entity" here is a header block, an empty line and a body, with CRLF line
// ends only. Builders apply the Content-Transfer-Encoding they declare, keep
// base64 lines at 76 characters and never emit a line longer than 998 octets.
// Pure: boundaries and dates are passed in by the caller.
//
// Header injection: a caller-supplied header value (subject, addresses, file
// names, content types, Date, Message-ID) that contains CR, LF or NUL is rejected
// with router::router_error naming the field. Nothing is silently rewritten.
// Other invalid input (a bad boundary, a boundary found in the content, text
// that is not UTF-8) is rejected the same way.
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

/// An attachment whose data is written separately, see document_entity_frame().
struct attachment_label {
  std::string filename;
  std::string content_type;
};

/// The top-level RFC 5322 fields of a message.
struct message_headers {
  std::string from;
  std::vector<std::string> to;
  std::string subject;      // UTF-8; encoded as RFC 2047 words when not ASCII
  std::string date;         // RFC 5322 date-time, see format_date()
  std::string message_id;   // with angle brackets
  // Whole Received: fields (RFC 5321 section 4.4), folded or not, each line
  // ended by CR LF. They come first in the header block, in this order.
  std::vector<std::string> trace;
};

/// Returns true when `field` is one whole Received: field: its name, then
/// lines ended by CR LF, each one after the first folded (starting with a
/// space or tab).
bool is_trace_field(std::string_view field);

/// Converts any mix of LF, CR LF and lone CR line ends to CR LF.
std::string canonicalize_line_ends(std::string_view text);

/// Encodes bytes as base64 in lines of 76 characters, each ended by CR LF.
std::string base64_lines(const std::vector<uint8_t>& data);

/// Encodes text as quoted-printable (RFC 2045 6.7). CR LF pairs stay hard line
/// breaks, and a lone CR or LF is encoded as =0D or =0A. Soft line breaks keep
/// encoded lines at 76 characters or fewer, and no line ends in a literal space or tab.
std::string encode_quoted_printable(std::string_view text);

/// Builds the document entity: a text/plain part alone, or multipart/mixed with
/// the text first and each attachment base64-encoded. The text (UTF-8, any line
/// ends) is canonicalized and gets a final CR LF when it lacks one. It is sent as
/// 7bit when it is ASCII without NUL and its lines fit in 998 octets, else as
/// quoted-printable. The boundary must not occur in the content; callers pass a
/// random one, and a boundary found in the text is rejected.
std::string build_document_entity(std::string_view body_text,
                                  const std::vector<attachment>& attachments,
                                  std::string_view boundary);

/// Returns the document entity of build_document_entity() without the base64
/// bodies of its attachments, for callers that encode large attachments from
/// files: the entity is piece 0, the base64_lines() of attachment 0, piece 1,
/// and so on, ending with the last piece. There is one piece more than there
/// are attachments. Checks and rejects as build_document_entity() does.
std::vector<std::string> document_entity_frame(std::string_view body_text,
                                               const std::vector<attachment_label>& attachments,
                                               std::string_view boundary);

/// The text of an entity around an inner entity that is written separately.
struct entity_frame {
  std::string before;
  std::string after;
};

/// Returns the multipart/signed entity of build_signed_entity() without the
/// signed entity: `before`, the signed entity, then `after`. The caller checks
/// that the signed entity has CR LF line ends and no line that starts with
/// "--" and the boundary (see check_boundary_absent()).
entity_frame signed_entity_frame(const std::vector<uint8_t>& signature_der, std::string_view micalg,
                                 std::string_view boundary);

/// Throws router_error when a line of `content` starts with "--" and the boundary.
void check_boundary_absent(std::string_view content, std::string_view boundary);

/// Builds a detached multipart/signed entity (RFC 1847, RFC 8551 3.5.3) around a
/// canonical entity. The first part contains `signed_entity` byte for byte, so the
/// signature must be computed over exactly these bytes. Rejects an entity with a
/// lone CR or LF, because its signature would not verify after transport.
std::string build_signed_entity(std::string_view signed_entity,
                                const std::vector<uint8_t>& signature_der,
                                std::string_view micalg, std::string_view boundary);

/// Builds an application/pkcs7-mime entity; smime_type is "enveloped-data",
/// "authEnveloped-data" or "signed-data" ("certs-only" and "compressed-data"
/// are accepted too). Other values are rejected.
std::string build_pkcs7_mime_entity(const std::vector<uint8_t>& cms_der, std::string_view smime_type);

/// Returns the header fields and the empty line of build_pkcs7_mime_entity(),
/// which the base64_lines() of the CMS DER follow.
std::string pkcs7_mime_entity_header(std::string_view smime_type);

/// Returns the RFC 5322 fields and MIME-Version that build_message() puts
/// before the entity, after the same checks.
std::string message_header_block(const message_headers& headers);

/// Prepends the RFC 5322 fields and MIME-Version to a canonical entity. `from`
/// and each `to` entry are "addr@example.com" or "Display Name <addr@example.com>"
/// with an ASCII address and a UTF-8 display name; at least one To is required.
std::string build_message(const message_headers& headers, std::string_view entity);

/// Encodes base64 in lines of 76 characters ended by CR LF, from input given in
/// pieces of any size. The output equals base64_lines() of all pieces joined.
class base64_line_encoder {
 public:
  /// Appends the complete lines that the input so far allows to `out`.
  void update(const uint8_t* data, size_t length, std::string& out);

  /// Appends the last, shorter line (with padding) to `out`, if input remains.
  void finish(std::string& out);

 private:
  std::vector<uint8_t> pending_;  // fewer octets than one full line takes
};

/// Formats seconds since the Unix epoch as an RFC 5322 date in UTC.
std::string format_date(int64_t unix_seconds);

} // namespace router::mime
