// TLS settings for SMTP connections: what a client trusts, what a server presents.
//
// Both are loaded once and shared by every connection that uses them. Botan
// types stay in tls.cpp, so callers of this header need no Botan include.
// Connections speak TLS 1.2 only: Botan 2 has no TLS 1.3, and older versions
// are turned off.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace router::smtp {

/// Source of "now" for judging certificate validity.
using certificate_clock = std::function<std::chrono::system_clock::time_point()>;

/// Certificates a TLS client accepts as roots when it checks a server's chain.
class tls_client_trust {
 public:
  /// Loads every certificate in the given PEM or DER files as a trust anchor;
  /// throws router_error naming the file that cannot be read or parsed.
  static tls_client_trust from_files(const std::vector<std::string>& files);

  /// Uses the operating system's trust store (on Debian, the bundle in
  /// /etc/ssl/certs/ca-certificates.crt that Botan's system store reads).
  static tls_client_trust system_store();

  /// Sets the clock that decides whether a certificate is within its validity
  /// period; the system clock when unset.
  void set_clock(certificate_clock clock);

  /// Returns "system trust store" or the anchor files, for logs and errors.
  std::string describe() const;

  struct state;
  const state& get() const { return *state_; }

 private:
  explicit tls_client_trust(std::shared_ptr<state> loaded);
  std::shared_ptr<state> state_;
};

/// Certificate, chain and private key a TLS server presents.
class tls_server_identity {
 public:
  /// Loads a certificate, its intermediate CA certificates and its unencrypted
  /// PKCS#8 key. Throws router_error naming the file that cannot be used, and
  /// also when the key does not belong to the certificate.
  static tls_server_identity load(const std::string& certificate_file, const std::vector<std::string>& chain_files,
                                  const std::string& private_key_file);

  struct state;
  const state& get() const { return *state_; }

 private:
  explicit tls_server_identity(std::shared_ptr<state> loaded);
  std::shared_ptr<state> state_;
};

} // namespace router::smtp
