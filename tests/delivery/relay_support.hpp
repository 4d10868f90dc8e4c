// Helpers for the delivery tests: TLS certificates made by the openssl
// command, and the aiosmtpd relay of relay.py started on 127.0.0.1.
#pragma once

#include "tests/common/test_support.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace router::testing {

/// PEM files written by `openssl`: a CA, a server certificate it issued for
/// DNS:localhost and IP:127.0.0.1 (valid 30 days from now) with its PKCS#8
/// key, and an unrelated CA that trusts nothing here.
struct relay_certificates {
  std::filesystem::path ca;
  std::filesystem::path server_certificate;
  std::filesystem::path server_key;
  std::filesystem::path other_ca;
};

/// Makes the certificates in dir; throws std::runtime_error with openssl's output on failure.
relay_certificates make_relay_certificates(const std::filesystem::path& dir);

/// relay.py on 127.0.0.1, stopped when the object dies.
class test_relay {
 public:
  /// Starts the relay with extra relay.py options, e.g. {"--size", "1000"}.
  test_relay(const std::filesystem::path& dir, const std::vector<std::string>& options = {});
  ~test_relay();
  test_relay(const test_relay&) = delete;
  test_relay& operator=(const test_relay&) = delete;

  uint16_t port() const { return port_; }

  /// Returns the recorded session events, one per line.
  std::vector<std::string> events() const;

  /// Returns how many events start with `prefix`.
  size_t count(const std::string& prefix) const;

  /// Waits up to 10 s until `count(prefix)` reaches `expected`; returns whether it did.
  bool wait_for(const std::string& prefix, size_t expected) const;

  /// Returns the stored messages' contents in arrival order.
  std::vector<std::string> messages() const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

} // namespace router::testing
