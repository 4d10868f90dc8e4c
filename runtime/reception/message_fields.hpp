// Values the router takes from a received message's header for the jobs it
// makes: the Subject as readable text and the From address.
#pragma once

#include <string>
#include <string_view>

namespace router::reception {

/// Returns the Subject as UTF-8 text fit for a new header: RFC 2047
/// encoded-words in UTF-8, US-ASCII or ISO-8859-1 are decoded, bytes that are
/// not UTF-8 become '?', and control characters become spaces.
/// NOTE: encoded-words in other charsets (ISO-2022-JP, Shift_JIS, ...) stay as
/// they are, so they reach the receiver as literal text.
std::string readable_subject(std::string_view unfolded);

/// Returns the addr-spec of a From field value ("Name <user@example.com>" or
/// "user@example.com"), or "" when it contains no valid address.
std::string from_address(std::string_view value);

} // namespace router::reception
