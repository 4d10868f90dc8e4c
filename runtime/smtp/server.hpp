// The SMTP reception server: listens on one address, runs each session in its
// own thread up to a limit, and drives a server_session per connection.
//
// The protocol lives in server_session; this file owns sockets, threads,
// timeouts, the STARTTLS hook, logs and statistics. docs/smtp-reception.md
// describes the behaviour an operator and a client see.
#pragma once

#include "runtime/smtp/connection.hpp"
#include "runtime/smtp/reception_handler.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace router::stats {
class registry;
}

namespace router::smtp {

/// Settings of the reception server, as in smtp_reception of
/// proto/config.proto. A zero number (or an empty host name) means the default.
struct reception_settings {
  std::string listen;                            // "HOST:PORT" with a numeric host; port 0 picks a free port
  std::string host_name = "localhost";           // in the greeting and the EHLO reply
  uint64_t max_message_size = 10 * 1024 * 1024;  // octets, announced as SIZE
  uint32_t max_recipients = 100;                 // per message
  uint32_t max_sessions = 16;                    // concurrent sessions
  milliseconds command_timeout = std::chrono::seconds(300);  // waiting for a command line
  milliseconds data_timeout = std::chrono::seconds(180);     // between blocks of message data
  // How long to wait before the greeting for a client that talks first (it
  // then gets 554 5.5.0). Zero judges only what has arrived at greeting time.
  milliseconds greeting_delay = milliseconds(0);
  stats::registry* stats = nullptr;  // counts under server_stats_name when set
};

/// Actor name of the server's figures in the stats registry: sessions
/// received and handled (finished), and protocol failures by reason. The
/// handler counts its own decisions under its own name.
constexpr const char* server_stats_name = "smtp_server";

class reception_server {
 public:
  /// Switches an accepted connection to TLS after "220 2.0.0 Ready to start
  /// TLS"; throws when the handshake fails, and the session is then closed.
  using tls_starter = std::function<void(connection&)>;

  /// Without `start_tls`, STARTTLS is not offered. The handler must outlive
  /// the server; it is called from several session threads at once.
  reception_server(reception_settings settings, reception_handler& handler, tls_starter start_tls = {});

  /// Stops the server; see stop().
  ~reception_server();

  reception_server(const reception_server&) = delete;
  reception_server& operator=(const reception_server&) = delete;

  /// Binds the listen address and starts accepting. Throws router_error naming
  /// the address when it cannot be bound, or when the server was started before.
  void start();

  /// Returns the bound port (the free port picked for port 0); 0 before start().
  uint16_t port() const;

  /// Stops accepting, ends every session at once (shutting down its socket,
  /// which wakes a session waiting for input) and joins every thread. A
  /// session inside the handler finishes that call first. Safe to call twice.
  void stop();

 private:
  struct session_slot;

  void accept_loop();
  void reap_finished();
  void refuse(std::unique_ptr<connection> client, const std::string& id);
  void serve(session_slot& slot, std::unique_ptr<connection> client, const std::string& id,
             std::chrono::steady_clock::time_point accepted_at);
  void count_failure(const std::string& reason);
  void count_session_received();
  void count_session_handled(std::chrono::steady_clock::time_point started);

  reception_settings settings_;
  reception_handler& handler_;
  tls_starter start_tls_;
  std::unique_ptr<listener> listener_;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  uint64_t sessions_started_ = 0;  // acceptor thread only

  std::mutex mutex_;  // guards sessions_ and the slots' client and done
  std::list<std::unique_ptr<session_slot>> sessions_;
};

} // namespace router::smtp
