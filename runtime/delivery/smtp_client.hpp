// SMTP client (RFC 5321) for delivery to a relay, with STARTTLS (RFC 3207),
// AUTH PLAIN or LOGIN (RFC 4954) and SIZE (RFC 1870).
//
// A session opens with the greeting and EHLO (HELO when EHLO is refused),
// switches to TLS as the starttls mode requires and sends EHLO again, then
// authenticates when a username is set. The session stays open for the next
// message. A session the relay closed while idle is replaced without counting
// as a failed attempt, and one idle longer than idle_timeout ends with QUIT.
//
// Failures become delivery_error: 4xx replies and connection failures are
// temporary, 5xx replies permanent, and so are a relay that lacks a required
// STARTTLS, a rejected certificate, rejected credentials and a message over
// the relay's SIZE limit. The message carries the relay's reply, made
// printable and capped. The password is never logged or put in a message.
//
// Known limits: one session at a time, because the delivery actor sends one
// message at a time. No PIPELINING, 8BITMIME or SMTPUTF8 negotiation. A
// message with several recipients fails whole when the relay rejects one.
#pragma once

#include "runtime/delivery/delivery.hpp"
#include "runtime/smtp/tls.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace router::smtp {
class connection;
}

namespace router::delivery {

/// Everything a client needs to reach one relay, with files already loaded.
struct smtp_relay_settings {
  std::string host;
  uint16_t port = 25;
  std::string helo_name = "localhost";
  std::chrono::seconds timeout{30};  // per reply, and for the TLS handshake
  config::starttls_mode starttls = config::OPPORTUNISTIC;
  std::optional<smtp::tls_client_trust> trust;  // required unless starttls is NEVER
  std::string tls_server_name;                  // empty means host
  std::string username;                         // empty means no AUTH
  std::string password;
  // An open session unused this long is ended with QUIT before the next message.
  std::chrono::seconds idle_timeout{30};
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

/// Extensions the relay announced in its EHLO reply.
struct ehlo_extensions {
  bool starttls = false;
  std::set<std::string> auth_mechanisms;  // upper case
  bool size = false;
  uint64_t size_limit = 0;  // 0: SIZE without a limit
};

/// Parses the lines of a 250 EHLO reply (without the code), first line being
/// the greeting; unknown keywords are ignored.
ehlo_extensions parse_ehlo_extensions(const std::vector<std::string>& lines);

class smtp_client : public deliverer {
 public:
  explicit smtp_client(smtp_relay_settings settings);

  /// Ends an open session with QUIT.
  ~smtp_client() override;

  receipt deliver(const envelope& message) override;
  std::string describe() const override;

 private:
  struct session;
  struct reply;

  /// Returns an open session, reusing the current one when it is still usable.
  session& ready_session();
  void open_session();
  void hello();
  void negotiate_tls();
  void authenticate();

  /// Runs MAIL, RCPT and DATA. Returns nullopt when a reused session turns
  /// out to be closed before the relay accepted anything.
  std::optional<receipt> send_transaction(bool reused);
  void reset_transaction();

  /// Reads one reply; throws connection_error when the connection fails.
  reply receive_reply(const std::string& step);
  /// Reads one reply; a connection failure becomes a temporary delivery_error.
  reply read_reply(const std::string& step);
  reply command(const std::string& line, const std::string& step);
  void expect(const reply& answer, int code, const std::string& step);
  [[noreturn]] void fail(const std::string& problem, bool temporary);
  [[noreturn]] void connection_failed(const std::string& step, const std::exception& error);

  /// Ends the session: with QUIT when the relay may still listen, else just closes it.
  void end_session(bool send_quit) noexcept;

  /// Writes one log line about the current message and this relay.
  void log_event(spdlog::level::level_enum level, const std::string& text) const;

  smtp_relay_settings settings_;
  std::string relay_;  // host:port, for messages
  std::unique_ptr<session> session_;
  const envelope* message_ = nullptr;  // the message being delivered, for log lines
};

/// Applies SMTP dot-stuffing (RFC 5321 4.5.2) and appends the end-of-data line.
std::string dot_stuff(const std::string& message);

} // namespace router::delivery
