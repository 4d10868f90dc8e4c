// Reading a message received over SMTP without changing a byte of it: its
// header fields exactly as they arrived, its body, and the content entity that
// the router sends on in place of a document it built itself.
//
// The split is lenient, because received mail is outside input, so malformed
// input does not throw. The header block ends at the first empty line; a line that is
// neither a header field nor the continuation of one also ends it and starts
// the body (so a message without an empty line still has a body). Lines may
// end in CR LF or a bare LF; the raw text keeps whatever was there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace router::mime {

/// One header field of a received message.
struct received_field {
  std::string name;   // as written, e.g. "Content-Type"
  std::string value;  // unfolded (line breaks of continuation lines removed) and trimmed
  std::string raw;    // every line of the field with its line break, as received
};

/// A received message split into its header fields and its body.
struct received_parts {
  std::vector<received_field> fields;
  std::string body;                  // the bytes after the header block, as received
  bool body_after_empty_line = true; // false when a non-field line ended the header block

  /// Returns the unfolded value of the first field with this name (any case), or "".
  std::string field(std::string_view name) const;

  /// Returns every field with this name (any case), in order.
  std::vector<received_field> fields_named(std::string_view name) const;
};

/// Splits a received message. Malformed input does not throw.
received_parts split_received_message(std::string_view message);

/// Returns true for the MIME content fields, whose names start with "Content-"
/// in any case (RFC 2045 section 9): Content-Type, Content-Transfer-Encoding,
/// Content-Disposition, Content-ID, Content-Description, Content-Language and
/// extensions such as Content-Features of Internet fax.
bool is_content_field(std::string_view name);

/// Returns the content entity of a received message: its content fields with
/// their original folding and order, an empty line, and its body, byte for
/// byte. A message without Content-Type gets "Content-Type: text/plain;
/// charset=us-ascii", the type RFC 2045 section 5.2 gives it, as its first
/// field; nothing else is added or changed.
std::string received_content_entity(std::string_view message);

/// Returns the offset of the first CR not followed by LF, or LF not preceded by
/// CR, or std::string_view::npos when every line break is CR LF.
size_t find_lone_line_break(std::string_view text);

} // namespace router::mime
