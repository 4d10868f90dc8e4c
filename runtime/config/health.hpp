// Certificate health of a loaded config: every certificate it names, judged
// for its use at a given time, with the days left until it expires.
#pragma once

#include "runtime/certs/usability.hpp"
#include "runtime/config/config.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace router::config {

struct certificate_health {
  std::string owner;    // "device", "address_book 'alice'" or "reception.tls"
  std::string purpose;  // "signing", "encryption" or "TLS server"
  std::string file;
  std::string address;  // the address the certificate must name; empty for the TLS server
  certs::usability_verdict verdict;
  int64_t days_left = 0;  // whole days until notAfter; negative once expired
  bool expiring = false;  // usable, but expires within the warning window
};

/// Judges the device certificate (for signing), every address-book
/// certificate (for encryption) and the reception STARTTLS certificate (as a
/// TLS server) at `now`.
std::vector<certificate_health> check_certificate_health(const loaded_config& config,
                                                         std::chrono::system_clock::time_point now,
                                                         int warning_days);

/// Formats the health rows as a table, then an error line per unusable and a
/// warning line per expiring certificate.
std::string format_certificate_health(const std::vector<certificate_health>& rows, int warning_days);

} // namespace router::config
