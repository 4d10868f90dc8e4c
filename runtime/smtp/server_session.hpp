// The protocol side of one SMTP reception session (RFC 5321 with PIPELINING,
// SIZE, 8BITMIME, ENHANCEDSTATUSCODES and STARTTLS), without any transport.
//
// The server reads lines and hands them over one at a time; the session
// answers each with at most one reply and an action (close the connection,
// start TLS), and asks the reception_handler about recipients and complete
// messages. Every abuse case ends in a defined reply; docs/smtp-reception.md
// lists them. A session belongs to one thread at a time.
#pragma once

#include "runtime/smtp/command.hpp"
#include "runtime/smtp/reception_handler.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace router::smtp {

/// One line as the connection read it (connection::read_line), without its
/// line end.
struct input_line {
  std::string text;
  bool too_long = false;  // cut to line_limit() octets; the rest of the line was dropped
  bool bare_lf = false;   // ended with LF alone, not CRLF
};

struct session_settings {
  std::string session_id = "r-000000";  // passed to the handler in the envelope
  std::string peer;                     // client address, e.g. "127.0.0.1:53412"
  std::string host_name = "localhost";  // in the greeting and the EHLO reply
  uint64_t max_message_size = 10 * 1024 * 1024;  // octets, announced as SIZE
  uint32_t max_recipients = 100;        // per message
  bool tls_available = false;           // STARTTLS can be offered
  uint32_t max_errors = 20;             // protocol errors before 421 4.7.0 and close
};

enum class session_action { none, close, start_tls };

/// Reply and action of the session for one input line.
struct session_output {
  int code = 0;                   // 0: no reply (a line of message data)
  std::string status;             // enhanced status code; empty for the greeting, EHLO/HELO and 354
  std::vector<std::string> text;  // reply text, one entry per reply line
  session_action action = session_action::none;

  std::string event;              // a line for the session log, or empty; may hold peer text
  bool warning = false;           // an abuse case, an exceeded limit, a failure or a 4xx from the handler
  std::string failure;            // protocol failure to count, e.g. "LINE_TOO_LONG"; never a handler refusal
  bool message_ended = false;     // the line ended a message's data, whatever the outcome

  bool has_reply() const { return code != 0; }
  bool positive() const { return code >= 200 && code < 400; }

  /// The reply as sent: "250-first\r\n250 last\r\n".
  std::string wire() const;
};

class server_session {
 public:
  server_session(session_settings settings, reception_handler& handler);

  /// Returns the greeting, or 554 5.5.0 and close when the client spoke
  /// before it (`input_waiting`).
  session_output start(bool input_waiting);

  /// Takes the next line. `input_waiting` is true when more input had arrived
  /// before this line got its reply. After a synchronising command, or from a
  /// client that did not use EHLO, that is improper pipelining.
  session_output on_line(const input_line& line, bool input_waiting);

  /// Records a finished TLS handshake: EHLO and the mail transaction are
  /// forgotten (RFC 3207 4.2) and STARTTLS is no longer offered.
  void tls_started();

  /// Returns 421 4.4.2 and close, for a client that let a timeout expire. A
  /// message whose data was being read is dropped.
  session_output timed_out();

  /// True while message data is read (after 354, before the final ".").
  bool reading_data() const { return in_data_; }

  /// Returns the maximum length, without its line end, of the next line to read.
  size_t line_limit() const { return in_data_ ? max_data_line : max_command_line; }

  bool closed() const { return closed_; }
  bool tls_active() const { return envelope_.tls; }
  const received_envelope& envelope() const { return envelope_; }

 private:
  enum class greeting_kind { none, helo, ehlo };

  session_output command_line(const input_line& line, bool input_waiting);
  session_output data_line(const input_line& line);
  session_output end_of_data();
  session_output protocol_error(session_output output);
  session_output on_ehlo(const command& parsed, bool extended);
  session_output on_mail(const command& parsed);
  session_output on_rcpt(const command& parsed);
  session_output on_data();
  session_output on_starttls();
  void reset_transaction();

  session_settings settings_;
  reception_handler& handler_;
  received_envelope envelope_;
  greeting_kind greeting_ = greeting_kind::none;
  bool in_transaction_ = false;  // MAIL accepted
  bool closed_ = false;
  uint32_t errors_ = 0;

  // Message data of the current DATA command.
  bool in_data_ = false;
  std::string message_;
  uint64_t data_size_ = 0;         // unstuffed octets with CRLFs, counted even when not kept
  bool data_too_big_ = false;
  bool data_line_too_long_ = false;
  bool data_bare_line_end_ = false;
  bool previous_line_crlf_ = true;  // the line before ended with CRLF
};

} // namespace router::smtp
