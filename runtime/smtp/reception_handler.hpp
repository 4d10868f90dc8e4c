// What the SMTP reception server asks of the router: whether a recipient is
// known, and what to do with a complete message.
//
// The server owns the protocol (commands, limits, timeouts, TLS); the handler
// owns the decisions (routes, encrypted-mail refusal, spooling), and counts and
// logs its refusals itself. The handler is called from session threads,
// several at once.
#pragma once

#include <string>
#include <vector>

namespace router::smtp {

/// An SMTP reply: code, enhanced status code (RFC 3463) and text.
struct reply {
  int code = 250;
  std::string status;  // e.g. "2.0.0"; empty for the greeting
  std::string text;

  bool positive() const { return code >= 200 && code < 400; }
};

/// The envelope of a message being received.
struct received_envelope {
  std::string session_id;   // for logs, e.g. "r-000042"
  std::string peer;         // "127.0.0.1:53412"
  std::string helo;         // EHLO or HELO argument
  bool extended = false;    // the client greeted with EHLO, not HELO
  bool tls = false;         // STARTTLS done
  std::string mail_from;    // reverse path without <>; empty for the null sender
  std::vector<std::string> recipients;
};

class reception_handler {
 public:
  virtual ~reception_handler() = default;

  /// Judges one RCPT TO address: 250 2.1.5 to accept, 550 5.1.1 for an unknown
  /// recipient.
  virtual reply check_recipient(const received_envelope& envelope, const std::string& address) = 0;

  /// Takes a complete message: dot-unstuffed, CRLF line ends, without the
  /// final ".". Returns 250 only once the message is durable; 5xx to refuse
  /// it (an encrypted message), 4xx when it cannot be stored now.
  virtual reply accept_message(const received_envelope& envelope, std::string message) = 0;
};

} // namespace router::smtp
