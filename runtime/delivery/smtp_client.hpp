// Plain SMTP client (RFC 5321) for delivery to a relay.
//
// One connection per message: greeting, EHLO (HELO when EHLO is refused),
// MAIL, RCPT per recipient, DATA with dot-stuffing, QUIT. Every reply is
// awaited with a timeout. 4xx replies and connection failures are temporary,
// 5xx replies permanent. No STARTTLS and no AUTH yet, so use it only towards
// a relay on a trusted network.
#pragma once

#include "runtime/delivery/delivery.hpp"

#include <chrono>

namespace router::delivery {

class smtp_client : public deliverer {
 public:
  smtp_client(std::string host, uint16_t port, std::string helo_name, std::chrono::seconds timeout);

  receipt deliver(const envelope& message) override;
  std::string describe() const override;

 private:
  std::string host_;
  uint16_t port_;
  std::string helo_name_;
  std::chrono::seconds timeout_;
};

/// Applies SMTP dot-stuffing (RFC 5321 4.5.2) and appends the end-of-data line.
std::string dot_stuff(const std::string& message);

} // namespace router::delivery
