// Botan TLS channel behind a connection; internal to the SMTP library.
//
// The session sends TLS records through connection::send_raw() and appends
// decrypted application data to the connection's read buffer. Botan
// exceptions are turned into connection_error here, so they never leave the
// library.
#pragma once

#include "runtime/smtp/connection.hpp"

#include <botan/auto_rng.h>
#include <botan/credentials_manager.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_channel.h>
#include <botan/tls_policy.h>
#include <botan/tls_session_manager.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace router::smtp {

/// Returns the time left until `deadline`, never less than zero.
inline milliseconds remaining_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, milliseconds(0));
}

class tls_session : public Botan::TLS::Callbacks {
 public:
  /// Starts a client handshake; the ClientHello is sent before this returns.
  tls_session(connection& owner, const std::string& server_name, const tls_client_trust& trust,
              milliseconds timeout);

  /// Prepares a server handshake that waits for the peer's ClientHello.
  tls_session(connection& owner, const tls_server_identity& identity);

  ~tls_session() override;

  /// Passes bytes from the socket to the channel; throws connection_error.
  void receive(const char* data, size_t size, milliseconds timeout);

  /// Encrypts and sends application data; throws connection_error.
  void send(std::string_view data, milliseconds timeout);

  /// Sends close_notify when the channel is up, without waiting or throwing.
  void close_quietly() noexcept;

  bool active() const;
  bool closed() const;
  const std::string& description() const { return description_; }

  // Botan::TLS::Callbacks
  void tls_emit_data(const uint8_t data[], size_t size) override;
  void tls_record_received(uint64_t sequence, const uint8_t data[], size_t size) override;
  void tls_alert(Botan::TLS::Alert alert) override;
  bool tls_session_established(const Botan::TLS::Session& session) override;
  void tls_verify_cert_chain(const std::vector<Botan::X509_Certificate>& chain,
                             const std::vector<std::shared_ptr<const Botan::OCSP::Response>>& ocsp_responses,
                             const std::vector<Botan::Certificate_Store*>& trusted_roots,
                             Botan::Usage_Type usage, const std::string& hostname,
                             const Botan::TLS::Policy& policy) override;

 private:
  /// Rethrows a socket error that a callback had to hold back from Botan.
  void rethrow_send_error();

  /// Throws the error for a failure of the channel with the given cause.
  [[noreturn]] void fail(const std::string& cause, bool timed_out = false) const;

  connection& owner_;
  milliseconds send_timeout_{0};
  std::optional<connection_error> send_error_;
  std::optional<std::string> certificate_problem_;
  std::optional<std::string> fatal_alert_;
  std::string description_;
  bool quiet_ = false;  // drop records instead of sending them

  Botan::AutoSeeded_RNG rng_;
  Botan::TLS::Session_Manager_Noop sessions_;
  std::unique_ptr<Botan::Credentials_Manager> credentials_;
  std::unique_ptr<Botan::TLS::Policy> policy_;
  std::optional<tls_client_trust> trust_;        // client side
  std::optional<tls_server_identity> identity_;  // server side
  std::string peer_name_;                        // for messages
  std::unique_ptr<Botan::TLS::Channel> channel_;
};

} // namespace router::smtp
