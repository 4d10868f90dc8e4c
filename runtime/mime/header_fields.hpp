// Header field helpers for the MIME builders: input checks, folding (RFC 5322
// 2.2.3), encoded-words (RFC 2047), parameter values (RFC 2045, RFC 2231) and
// mailboxes.
//
// Every check throws router::router_error with a message that names the field.
// Limits: mailboxes are ASCII addr-specs with an optional UTF-8 display name,
// so SMTPUTF8 addresses are rejected. Group syntax and comments are not supported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace router::mime::detail {

/// Maximum length of a header line without its CRLF that we aim for (RFC 5322 2.1.1).
constexpr size_t recommended_line_length = 78;

/// Hard maximum length of any line without its CRLF (RFC 5322 2.1.1, RFC 5321 4.5.3.1.6).
constexpr size_t max_line_length = 998;

bool is_valid_utf8(std::string_view text);

bool is_ascii(std::string_view text);

/// Rejects a header value that contains CR, LF or NUL, naming the field.
void reject_line_breaks(std::string_view field, std::string_view value);

/// Checks an RFC 2045 token (a parameter value or type name that needs no quotes).
bool is_token(std::string_view text);

/// Checks a boundary against the bchars of RFC 2046 5.1.1. Throws when invalid.
void check_boundary(std::string_view boundary);

/// Throws when a line of `content` starts with "--" followed by the boundary.
void check_boundary_absent(std::string_view content, std::string_view boundary);

/// Formats "Name: value" and folds it at spaces outside quoted strings so that
/// lines stay within `width` octets where the value allows it. Lines with RFC 2047
/// encoded-words stay within 76. Returns the field with its final CRLF and throws
/// when a line would still exceed 998 octets.
std::string header_field(std::string_view name, std::string_view value,
                         size_t width = recommended_line_length);

/// Builds the Subject value: the text itself when it is printable ASCII, else
/// RFC 2047 encoded-words of the UTF-8 text.
std::string subject_value(std::string_view subject);

/// Formats one mailbox ("addr@example.com" or "Display Name <addr@example.com>")
/// for a From or To field, quoting or encoding the display name as needed.
std::string mailbox_value(std::string_view field, std::string_view mailbox);

/// Builds a file name parameter ("filename" or "name") as one or more
/// "attribute=value" pieces, each short enough for a folded line of its own.
/// Non-ASCII and long names use RFC 2231 encoding with continuations.
std::vector<std::string> filename_parameter(std::string_view attribute, std::string_view filename);

/// Joins a value and its parameters with "; " for header_field() to fold.
std::string with_parameters(std::string_view value, const std::vector<std::string>& parameters);

} // namespace router::mime::detail
