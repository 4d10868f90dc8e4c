// Parsing of one SMTP command line (RFC 5321 section 4.1) into its verb and
// argument, with the paths and ESMTP parameters of MAIL and RCPT.
//
// Pure code: no I/O and no session state. Whether a command is allowed now
// (sequence, EHLO before parameters, limits) is the session's business.
#pragma once

#include "runtime/smtp/reception_handler.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace router::smtp {

/// Maximum length of a command line, not counting its CRLF. RFC 5321 4.5.3.1.4 allows
/// 512 octets with the CRLF; the two spare octets leave room for parameters.
constexpr size_t max_command_line = 512;

/// Maximum length of a line of message data, not counting its CRLF (RFC 5321
/// 4.5.3.1.6: 1000 octets with the CRLF).
constexpr size_t max_data_line = 998;

/// Maximum length of a path inside <>, e.g. "user@example.com" (RFC 5321 4.5.3.1.3
/// allows 256 octets with the brackets).
constexpr size_t max_path_length = 254;

enum class verb { ehlo, helo, mail, rcpt, data, rset, noop, quit, vrfy, expn, help, starttls, unknown };

/// BODY= of MAIL (RFC 6152).
enum class body_type { unspecified, seven_bit, eight_bit_mime };

struct command {
  verb name = verb::unknown;
  std::string argument;  // text after the verb and its space; trailing blanks removed

  // MAIL and RCPT only.
  std::string address;   // mailbox without <> and source route; empty for the null path <>
  bool has_parameters = false;     // any ESMTP parameter was given
  std::optional<uint64_t> size;    // SIZE=; saturates at UINT64_MAX
  body_type body = body_type::unspecified;

  /// Set when the line is not a valid command: the reply to send instead.
  std::optional<reply> error;
};

/// Parses one command line, given without its CRLF.
///
/// Replies set in `error`: 500 5.5.2 for an empty line or one with control
/// characters, 500 5.5.1 for an unknown verb, 501 5.5.2 for MAIL/RCPT without
/// "FROM:<path>"/"TO:<path>", 501 5.5.4 for a bad address, a malformed
/// parameter or an argument where none is allowed, 555 5.5.4 for a parameter
/// this server does not implement.
command parse_command(std::string_view line);

/// Returns the verb a line starts with, even when the rest of it is not
/// valid; for deciding on pipelining before the line is judged.
verb verb_of(std::string_view line);

/// Returns the verb's name in capitals, e.g. "MAIL".
const char* verb_name(verb name);

/// Returns true when a path's mailbox ("local@domain", or a bare local part
/// such as "postmaster") is valid for this server: ASCII only, a dot-string or
/// quoted local part and a domain name or address literal.
bool valid_mailbox(std::string_view mailbox);

} // namespace router::smtp
