#include "runtime/smtp/server.hpp"

#include "runtime/common/error.hpp"
#include "runtime/log/log.hpp"
#include "runtime/smtp/server_session.hpp"
#include "runtime/stats/stats.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <system_error>

namespace router::smtp {

namespace {

constexpr auto accept_wait = std::chrono::milliseconds(100);  // how soon the acceptor notices stop()
constexpr auto refusal_timeout = std::chrono::seconds(1);     // sending 421 to a client beyond the limit
constexpr auto closing_linger = std::chrono::seconds(1);     // draining a client the server closes on
constexpr size_t max_event_length = 500;

/// True when the peer's next bytes have arrived already: in the connection's
/// buffer, or in the socket (peeked, so an end of stream does not count).
bool input_waiting(const connection& client) {
  if (client.has_buffered_input())
    return true;
  pollfd descriptor{client.native_handle(), POLLIN, 0};
  if (::poll(&descriptor, 1, 0) <= 0)
    return false;
  char byte = 0;
  return ::recv(client.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/// Ends the sending side of a connection the server chose to close, then reads
/// and drops what the client still sends for at most `linger`. Closing with
/// unread input makes the kernel reset the connection, which can destroy the
/// last reply before the client reads it.
void finish_sending(const connection& client, milliseconds linger) {
  constexpr size_t max_dropped = 1024 * 1024;
  const int fd = client.native_handle();
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + linger;
  size_t dropped = 0;
  while (dropped < max_dropped) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd descriptor{fd, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(std::max<long long>(left, 0))) <= 0)
      return;
    char scratch[4096];
    const ssize_t count = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (count <= 0 && !(count < 0 && (errno == EINTR || errno == EAGAIN)))
      return;
    if (count > 0)
      dropped += static_cast<size_t>(count);
  }
}

/// Waits at most `delay` for the client to send before the greeting; true
/// when it did. An end of stream is not talking.
bool talks_first(const connection& client, milliseconds delay) {
  const auto deadline = std::chrono::steady_clock::now() + delay;
  while (true) {
    if (input_waiting(client))
      return true;
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0)
      return false;
    pollfd descriptor{client.native_handle(), POLLIN, 0};
    const int ready = ::poll(&descriptor, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR)
      return false;
    if (ready > 0 && !input_waiting(client))
      return false;  // end of stream or an error: the greeting write will tell
  }
}

std::string duration_text(milliseconds duration) {
  if (duration.count() % 1000 == 0)
    return std::to_string(duration.count() / 1000) + " s";
  return std::to_string(duration.count()) + " ms";
}

std::string session_id(uint64_t number) {
  char text[32];
  std::snprintf(text, sizeof text, "r-%06llu", static_cast<unsigned long long>(number));
  return text;
}

void log_event(const std::string& id, const std::string& peer, bool warning, const std::string& event) {
  const auto level = warning ? spdlog::level::warn : spdlog::level::info;
  log::logger()->log(level, "smtp reception {} {}: {}", id, printable(peer, 64), printable(event, max_event_length));
}

} // namespace

struct reception_server::session_slot {
  std::thread thread;
  connection* client = nullptr;  // while the session runs; guarded by mutex_
  bool done = false;             // guarded by mutex_
};

reception_server::reception_server(reception_settings settings, reception_handler& handler, tls_starter start_tls)
    : settings_(std::move(settings)), handler_(handler), start_tls_(std::move(start_tls)) {
  const reception_settings defaults;
  if (settings_.host_name.empty())
    settings_.host_name = defaults.host_name;
  if (settings_.max_message_size == 0)
    settings_.max_message_size = defaults.max_message_size;
  if (settings_.max_recipients == 0)
    settings_.max_recipients = defaults.max_recipients;
  if (settings_.max_sessions == 0)
    settings_.max_sessions = defaults.max_sessions;
  if (settings_.command_timeout.count() <= 0)
    settings_.command_timeout = defaults.command_timeout;
  if (settings_.data_timeout.count() <= 0)
    settings_.data_timeout = defaults.data_timeout;
  if (settings_.greeting_delay.count() < 0)
    settings_.greeting_delay = milliseconds(0);
}

reception_server::~reception_server() {
  stop();
}

void reception_server::start() {
  if (listener_ || stopping_)
    throw router_error("SMTP reception on \"" + settings_.listen + "\" was started or stopped before; make a new server");
  listener_ = std::make_unique<listener>(settings_.listen);
  port_ = listener_->port();
  acceptor_ = std::thread([this] { accept_loop(); });
  log::logger()->info("smtp reception listening on {}, {}, at most {} sessions", listener_->address(),
                      start_tls_ ? "STARTTLS offered" : "STARTTLS not offered", settings_.max_sessions);
}

uint16_t reception_server::port() const {
  return port_;
}

void reception_server::stop() {
  stopping_ = true;
  if (acceptor_.joinable())
    acceptor_.join();
  std::list<std::unique_ptr<session_slot>> sessions;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& slot : sessions_)
      if (slot->client != nullptr)
        ::shutdown(slot->client->native_handle(), SHUT_RDWR);
    sessions.swap(sessions_);
  }
  for (const auto& slot : sessions)
    if (slot->thread.joinable())
      slot->thread.join();
  if (listener_) {
    const std::string address = listener_->address();
    listener_.reset();
    log::logger()->info("smtp reception on {} stopped", address);
  }
}

void reception_server::count_failure(const std::string& reason) {
  if (settings_.stats != nullptr)
    settings_.stats->count_failure(server_stats_name, reason);
}

void reception_server::count_session_received() {
  if (settings_.stats != nullptr)
    settings_.stats->actor(server_stats_name).count_received(0);
}

void reception_server::count_session_handled(std::chrono::steady_clock::time_point started) {
  if (settings_.stats != nullptr)
    settings_.stats->actor(server_stats_name).count_handled(started);
}

void reception_server::reap_finished() {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (auto slot = sessions_.begin(); slot != sessions_.end();) {
    if ((*slot)->done) {
      // The thread set `done` as its last step, so this join is immediate.
      (*slot)->thread.join();
      slot = sessions_.erase(slot);
    } else {
      ++slot;
    }
  }
}

void reception_server::accept_loop() {
  while (!stopping_) {
    std::unique_ptr<connection> client;
    const auto waited_from = std::chrono::steady_clock::now();
    try {
      client = listener_->accept(accept_wait);
    } catch (const std::exception& error) {
      log::logger()->error("smtp reception on {}: cannot accept: {}", listener_->address(), error.what());
    }
    reap_finished();
    if (!client) {
      // An early return without a connection is a failed accept (e.g. out of
      // file descriptors); pause instead of spinning on it.
      if (std::chrono::steady_clock::now() - waited_from < accept_wait / 2)
        std::this_thread::sleep_for(accept_wait / 2);
      continue;
    }
    const std::string id = session_id(++sessions_started_);
    const auto accepted_at = std::chrono::steady_clock::now();
    count_session_received();

    std::unique_lock<std::mutex> lock(mutex_);
    if (sessions_.size() >= settings_.max_sessions) {
      lock.unlock();
      refuse(std::move(client), id);
      count_session_handled(accepted_at);
      continue;
    }
    auto slot = std::make_unique<session_slot>();
    session_slot& owned = *slot;
    owned.client = client.get();
    sessions_.push_back(std::move(slot));
    try {
      owned.thread = std::thread([this, &owned, id, accepted_at, moved = std::move(client)]() mutable {
        serve(owned, std::move(moved), id, accepted_at);
      });
    } catch (const std::system_error& error) {
      // The lambda, and with it the connection, is gone; so is the session.
      sessions_.pop_back();
      lock.unlock();
      log::logger()->error("smtp reception {}: cannot start a session thread: {}", id, error.what());
      count_failure("TOO_MANY_SESSIONS");
      count_session_handled(accepted_at);
    }
  }
}

void reception_server::refuse(std::unique_ptr<connection> client, const std::string& id) {
  log_event(id, client->peer(), true,
            "refused: " + std::to_string(settings_.max_sessions) + " sessions already open; replied 421 4.3.2");
  count_failure("TOO_MANY_SESSIONS");
  try {
    client->write_all("421 4.3.2 " + settings_.host_name + " too many sessions, try again later\r\n",
                      refusal_timeout);
    // The acceptor does not wait: only what has arrived already is drained.
    finish_sending(*client, milliseconds(0));
  } catch (const connection_error&) {
    // The client is gone; nothing more to tell it.
  }
}

void reception_server::serve(session_slot& slot, std::unique_ptr<connection> client, const std::string& id,
                             std::chrono::steady_clock::time_point accepted_at) {
  const std::string peer = client->peer();
  log_event(id, peer, false, "connected");

  session_settings settings;
  settings.session_id = id;
  settings.peer = peer;
  settings.host_name = settings_.host_name;
  settings.max_message_size = settings_.max_message_size;
  settings.max_recipients = settings_.max_recipients;
  settings.tls_available = static_cast<bool>(start_tls_);
  server_session session(settings, handler_);

  // Logs and counts one step, and sends its reply.
  const auto act = [&](const session_output& output) {
    if (!output.event.empty())
      log_event(id, peer, output.warning, output.event);
    if (!output.failure.empty())
      count_failure(output.failure);
    if (output.has_reply())
      client->write_all(output.wire(), settings_.command_timeout);
  };

  std::string ending = "closed";
  bool server_closes = true;  // false once the client closed or the server is stopping
  bool after_quit = false;
  try {
    const auto greeting = session.start(talks_first(*client, settings_.greeting_delay));
    act(greeting);
    if (greeting.action == session_action::close)
      ending = "closed after reply " + std::to_string(greeting.code) + " " + greeting.status;
    while (!session.closed()) {
      const bool in_data = session.reading_data();
      connection::line line;
      try {
        line = client->read_line(session.line_limit(), in_data ? settings_.data_timeout : settings_.command_timeout);
      } catch (const connection_error& error) {
        server_closes = !stopping_ && error.timed_out();
        if (stopping_) {
          ending = "closed: the server is stopping";
        } else if (error.timed_out()) {
          const auto output = session.timed_out();
          log_event(id, peer, true, output.event + " (" + (in_data ? "data" : "command") + " timeout " +
                                        duration_text(in_data ? settings_.data_timeout : settings_.command_timeout) +
                                        ")");
          count_failure(output.failure);
          try {
            client->write_all(output.wire(), refusal_timeout);
          } catch (const connection_error&) {
            // The client is not listening either.
          }
          ending = "closed after reply 421 4.4.2";
        } else {
          ending = in_data ? "closed by the client in the middle of message data; message dropped"
                           : "closed by the client";
        }
        break;
      }

      const bool waiting = !session.reading_data() && input_waiting(*client);
      const auto output = session.on_line({std::move(line.text), line.too_long, line.bare_lf}, waiting);
      act(output);

      if (output.action == session_action::start_tls) {
        // Nothing the client sent before the handshake counts (plaintext
        // command injection, CVE-2011-0411).
        client->discard_buffered_input();
        try {
          start_tls_(*client);
        } catch (const std::exception& error) {
          log_event(id, peer, true, std::string("TLS handshake failed: ") + error.what() + "; closing");
          count_failure("TLS_FAILED");
          ending = "closed after a failed TLS handshake";
          break;
        } catch (...) {
          log_event(id, peer, true, "TLS handshake failed; closing");
          count_failure("TLS_FAILED");
          ending = "closed after a failed TLS handshake";
          break;
        }
        session.tls_started();
        log_event(id, peer, false, "TLS started");
      } else if (output.action == session_action::close) {
        after_quit = output.code == 221;
        ending = after_quit ? "closed after QUIT"
                            : "closed after reply " + std::to_string(output.code) + " " + output.status;
      }
    }
  } catch (const connection_error& error) {
    server_closes = false;
    ending = stopping_ ? std::string("closed: the server is stopping")
                       : std::string("connection lost: ") + error.what();
  } catch (const std::exception& error) {
    log::logger()->error("smtp reception {} {}: session failed: {}", id, printable(peer, 64), error.what());
    ending = "closed after an internal error";
  } catch (...) {
    log::logger()->error("smtp reception {} {}: session failed", id, printable(peer, 64));
    ending = "closed after an internal error";
  }
  // After QUIT nothing more is due from the client, so only what has arrived
  // already is drained. After an error reply the client may still be sending.
  if (server_closes && !stopping_)
    finish_sending(*client, after_quit ? milliseconds(0) : closing_linger);
  // Counted before the last log line, so a reader of that line also finds the session counted.
  count_session_handled(accepted_at);
  log_event(id, peer, false, ending);

  const std::lock_guard<std::mutex> lock(mutex_);
  slot.client = nullptr;
  client.reset();
  slot.done = true;
}

} // namespace router::smtp
