// A TCP connection with a deadline on every read and write.
//
// Both SMTP sides use it: the delivery client connects to a relay, and the
// reception server wraps each accepted socket. Reads go through an internal
// buffer so a line reader can take whole lines. A connection belongs to one
// thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace router::smtp {

using milliseconds = std::chrono::milliseconds;

/// Failure of a connection. `timed_out` tells a deadline from a lost peer.
class connection_error : public std::runtime_error {
 public:
  connection_error(const std::string& message, bool timed_out)
      : std::runtime_error(message), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

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

  const std::string& peer() const { return peer_; }
  int native_handle() const { return fd_; }

 private:
  /// Reads at least one byte into buffer_; returns false at end of stream.
  bool fill(milliseconds timeout);
  void wait_for(short events, milliseconds timeout, const char* activity);

  int fd_ = -1;
  std::string peer_;
  std::string buffer_;
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

  /// Waits at most `timeout` for a connection; returns nullptr on timeout.
  std::unique_ptr<connection> accept(milliseconds timeout);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

/// Splits "HOST:PORT" or "[V6]:PORT"; throws router_error naming the value.
std::pair<std::string, uint16_t> split_host_port(const std::string& address);

/// Makes peer text printable and at most `limit` octets, for logs and results.
std::string printable(std::string_view text, size_t limit = 200);

} // namespace router::smtp
