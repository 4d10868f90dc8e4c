// The /metrics endpoint: a small HTTP/1.1 responder on a blocking loopback
// socket in its own thread, and the matching client that `smime-router stats`
// uses to fetch the text.
//
// The server responds to GET and HEAD of /metrics with the exposition text, 404
// for any other path, 405 for other methods and 400 for a request it cannot
// parse. Requests may carry at most 8 KiB of header; more gets 431. Each
// connection serves one response and is closed, and connections are served
// one at a time, so a client that stalls holds the next one back for at most
// the 2-second receive timeout. Only IPv4 loopback addresses (127.0.0.0/8,
// "localhost") are accepted, because the figures are not meant for the network.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace router::stats {

/// An IPv4 loopback address and TCP port to listen on or connect to.
struct endpoint {
  std::string host;  // dotted IPv4, inside 127.0.0.0/8
  uint16_t port = 0;
};

/// Parses "HOST:PORT" with a loopback host (127.0.0.0/8 or "localhost", which
/// becomes 127.0.0.1) and a port from 0 to 65535. Returns nullopt and sets
/// `problem` to a readable reason otherwise.
std::optional<endpoint> parse_loopback_endpoint(const std::string& text, std::string& problem);

class metrics_server {
 public:
  using text_source = std::function<std::string()>;

  /// Binds `where` (port 0 picks a free port) and starts serving; throws
  /// std::runtime_error naming the address when the socket cannot be bound.
  metrics_server(const endpoint& where, text_source metrics);

  /// Stops serving; see stop().
  ~metrics_server();

  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Returns the bound port, which differs from the requested one when that was 0.
  uint16_t port() const { return port_; }

  /// Stops the thread after the request in progress, if any, and closes the socket.
  void stop();

 private:
  void serve();
  void respond_to(int connection);

  text_source metrics_;
  int listener_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written to by stop() to end the poll loop
  uint16_t port_ = 0;
  std::thread thread_;
};

/// A fetched HTTP response.
struct http_response {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// Fetches `url` ("http://HOST:PORT/PATH", loopback hosts only) with one GET
/// request. Throws std::invalid_argument for a URL it does not accept and
/// std::runtime_error when the connection or the response fails, both naming
/// the URL. The response may have at most 16 MiB.
http_response http_get(const std::string& url, std::chrono::milliseconds timeout);

} // namespace router::stats
