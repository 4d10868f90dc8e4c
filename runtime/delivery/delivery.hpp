// Delivery of built messages: a Maildir outbox or an SMTP relay.
//
// A deliverer takes one finished RFC 5322 message and its envelope, and either
// returns where it went or throws delivery_error, which reports whether a retry
// may succeed. The retry decision itself lives in retry_policy below, so all
// delivery-failure policy sits in this module.
#pragma once

#include "config.pb.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace router::delivery {

/// A message ready to leave, with its SMTP envelope.
struct envelope {
  std::string job_id;
  uint32_t index = 0;  // destination position in the job
  std::string mail_from;
  std::vector<std::string> recipients;
  std::string message;  // CRLF line ends
  // A file that contains the message, in place of `message` for large
  // documents. Every deliverer reads it; one that moves the file away leaves
  // nothing for the caller to remove.
  std::string message_file;
};

/// Location of a delivered message: an outbox file or the relay's reply.
struct receipt {
  std::string outbox_file;  // Maildir file, for outbox delivery
  std::string smtp_reply;   // last reply of the relay, for SMTP delivery
};

/// Delivery failure. `temporary` is true when trying again may succeed.
class delivery_error : public std::runtime_error {
 public:
  delivery_error(const std::string& message, bool temporary)
      : std::runtime_error(message), temporary_(temporary) {}
  bool temporary() const { return temporary_; }

 private:
  bool temporary_;
};

class deliverer {
 public:
  virtual ~deliverer() = default;

  /// Delivers one message; throws delivery_error.
  virtual receipt deliver(const envelope& message) = 0;

  /// Returns a short description of the target for logs, e.g. "outbox /var/out".
  virtual std::string describe() const = 0;

  /// Returns true when deliver() may run on several threads at once.
  virtual bool concurrent_deliveries() const { return false; }
};

/// Retry schedule for temporary failures: exponential back-off from
/// `first_delay`, doubling, for at most `max_attempts` attempts in all.
struct retry_policy {
  int max_attempts = 3;
  std::chrono::milliseconds first_delay{500};

  /// Returns the wait before attempt `attempt` (2, 3, ...).
  std::chrono::milliseconds delay_before(int attempt) const;

  /// Returns true when a failure on attempt `attempt` (1-based) is to be retried.
  bool should_retry(const delivery_error& error, int attempt) const;
};

/// Makes the deliverer for a config's delivery target, loading the relay's
/// trust anchors and password file. Throws a permanent delivery_error that
/// names the file when one cannot be used.
std::unique_ptr<deliverer> make_deliverer(const config::delivery_target& target);

/// Returns the first line of a password file without its line end. Throws
/// router_error naming the file when it is unreadable or its first line is
/// empty. When a later line has text, the message points to the first line.
std::string read_password_file(const std::string& path);

} // namespace router::delivery
