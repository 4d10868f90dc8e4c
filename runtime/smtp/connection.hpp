// A TCP connection with a deadline on every read and write, and optional TLS.
//
// Both SMTP sides use it: the delivery client connects to a relay, and the
// reception server wraps each accepted socket. Reads go through an internal
// buffer so a line reader can take whole lines. After start_tls_client() or
// start_tls_server() every read and write goes through a Botan TLS channel
// (see tls.hpp for trust and identity). A connection belongs to one thread at
// a time.
#pragma once

#include "runtime/smtp/tls.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace router::smtp {

using milliseconds = std::chrono::milliseconds;

/// Failure of a connection. `timed_out` is true for a deadline, false for a lost peer.
class connection_error : public std::runtime_error {
 public:
  connection_error(const std::string& message, bool timed_out)
      : std::runtime_error(message), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

/// TLS handshake failure because the peer's certificate failed the check
/// (untrusted, expired, wrong name). Trying again fails the same way until
/// the certificate or the trust settings change.
class tls_certificate_error : public connection_error {
 public:
  explicit tls_certificate_error(const std::string& message) : connection_error(message, false) {}
};

class tls_session;

class connection {
 public:
  /// Connects to host:port, trying each resolved address in turn.
  static std::unique_ptr<connection> connect(const std::string& host, uint16_t port, milliseconds timeout);

  /// Takes ownership of an accepted socket; `peer` is its address for logs.
  connection(int fd, std::string peer);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Returns the next line without its CRLF (or bare LF), waiting at most
  /// `timeout` for more bytes. A line longer than `max_length` octets is
  /// returned cut to that length with `too_long` set; the rest of it is read
  /// and dropped. Throws connection_error on timeout, error or end of stream.
  struct line {
    std::string text;
    bool too_long = false;
    bool bare_lf = false;  // ended with LF alone
  };
  line read_line(size_t max_length, milliseconds timeout);

  /// Returns true when bytes the peer sent are already buffered, so a reply
  /// is being sent before the peer waited for it.
  bool has_buffered_input() const;

  /// Drops buffered input, as required after a STARTTLS command.
  void discard_buffered_input();

  /// Writes every byte of `data` or throws connection_error.
  void write_all(std::string_view data, milliseconds timeout);

  /// Returns true, without waiting, when the peer sent bytes or closed the
  /// connection. An idle client uses it to find a connection the server dropped.
  bool has_pending_input();

  /// Runs a TLS 1.2 client handshake within `timeout`. The server's chain must
  /// lead to an anchor of `trust` and its certificate must name `server_name`.
  /// Buffered plaintext is dropped first. Throws tls_certificate_error when the
  /// certificate check fails and connection_error for any other failure; both
  /// messages name the server and the cause.
  void start_tls_client(const std::string& server_name, const tls_client_trust& trust, milliseconds timeout);

  /// Runs a TLS 1.2 server handshake within `timeout`, presenting `identity`.
  /// Buffered plaintext is dropped first. Throws connection_error naming the
  /// peer and the cause, e.g. when the client sends no valid ClientHello.
  void start_tls_server(const tls_server_identity& identity, milliseconds timeout);

  bool tls_active() const;

  /// Returns the protocol version and cipher suite, e.g. "TLS v1.2
  /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", or "" without TLS.
  std::string tls_description() const;

  const std::string& peer() const { return peer_; }
  int native_handle() const { return fd_; }

 private:
  friend class tls_session;

  /// Reads at least one byte into buffer_; returns false at end of stream.
  bool fill(milliseconds timeout);
  void wait_for(short events, milliseconds timeout, const char* activity);

  /// Reads what the socket has, waiting at most `timeout`; returns 0 at end of stream.
  size_t receive_raw(char* data, size_t size, milliseconds timeout);
  /// Writes bytes to the socket, bypassing TLS.
  void send_raw(std::string_view data, milliseconds timeout);
  /// Feeds socket bytes to the TLS channel until its handshake is done.
  void complete_handshake(milliseconds timeout, const std::string& peer_name);

  int fd_ = -1;
  std::string peer_;
  std::string buffer_;  // plaintext received and not yet read
  std::unique_ptr<tls_session> tls_;
};

/// A listening TCP socket.
class listener {
 public:
  /// Binds HOST:PORT ("127.0.0.1:2525", "[::1]:0"); throws router_error naming
  /// the address when it cannot be bound.
  explicit listener(const std::string& address);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// Returns the bound port (useful after binding port 0).
  uint16_t port() const { return port_; }

  /// Returns the bound address with its port, e.g. "127.0.0.1:43711" or "[::1]:2525".
  const std::string& address() const { return address_; }

  /// Waits at most `timeout` for a connection; returns nullptr on timeout.
  std::unique_ptr<connection> accept(milliseconds timeout);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string address_;
};

/// Splits "HOST:PORT" or "[V6]:PORT"; throws router_error naming the value.
std::pair<std::string, uint16_t> split_host_port(const std::string& address);

/// Makes peer text printable and at most `limit` octets, for logs and results.
std::string printable(std::string_view text, size_t limit = 200);

} // namespace router::smtp
