// Values the router takes from a received message's header for the jobs it
// makes (the Subject as readable text and the From address), and the
// Received: field it adds to each message it receives.
#pragma once

#include "runtime/smtp/reception_handler.hpp"

#include <cstdint>
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

/// Returns the Received: field (RFC 5321 section 4.4) for a message taken in
/// the session of `envelope` by `host_name` at `unix_seconds`. The field is
/// folded and has CR LF line ends, for example:
///   Received: from client.example ([192.0.2.7])
///           by device.example.com with ESMTPS id r-000042
///           for <alice@device.example.com>; Sat, 05 Dec 2026 01:50:00 +0000
/// The EHLO name appears only when it is a domain or an address literal, else
/// "unknown". The for clause appears only for a single recipient.
std::string received_field(const smtp::received_envelope& envelope, std::string_view host_name,
                           int64_t unix_seconds);

} // namespace router::reception
