#include "runtime/stats/http.hpp"

#include "runtime/log/log.hpp"
#include "runtime/stats/prometheus.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace router::stats {

namespace {

constexpr size_t max_request_bytes = 8 * 1024;
constexpr size_t max_response_bytes = 16 * 1024 * 1024;
constexpr int receive_timeout_seconds = 2;

std::string system_error_text() {
  return std::strerror(errno);
}

/// Closes a descriptor when it goes out of scope.
class socket_guard {
 public:
  explicit socket_guard(int fd) : fd_(fd) {}
  ~socket_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  socket_guard(const socket_guard&) = delete;
  socket_guard& operator=(const socket_guard&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof value);
}

sockaddr_in socket_address(const endpoint& where) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(where.port);
  ::inet_pton(AF_INET, where.host.c_str(), &address.sin_addr);
  return address;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t written = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return false;
    sent += static_cast<size_t>(written);
  }
  return true;
}

std::string status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
  }
}

void respond(int fd, int status, const std::string& content_type, const std::string& body, bool with_body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
  head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 405)
    head += "Allow: GET, HEAD\r\n";
  head += "Connection: close\r\n\r\n";
  send_all(fd, with_body ? head + body : head);
}

/// Reads the request head (up to the blank line). Returns false when the
/// client closed or timed out before sending a byte; sets `too_large` when the
/// head does not fit into max_request_bytes.
bool read_request_head(int fd, std::string& head, bool& too_large) {
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
    if (head.size() > max_request_bytes) {
      too_large = true;
      return true;
    }
    const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
    if (received < 0 && errno == EINTR)
      continue;
    if (received <= 0)
      return !head.empty();
    head.append(buffer, static_cast<size_t>(received));
  }
  return true;
}

/// Returns true for a request target made only of visible ASCII characters.
bool is_visible_ascii(const std::string& text) {
  for (const char c : text) {
    if (c <= ' ' || c >= 0x7f)
      return false;
  }
  return true;
}

bool is_token(const std::string& text) {
  if (text.empty())
    return false;
  for (const char c : text) {
    if (c < 'A' || c > 'Z')
      return false;
  }
  return true;
}

} // namespace

std::optional<endpoint> parse_loopback_endpoint(const std::string& text, std::string& problem) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    problem = "'" + text + "' is not HOST:PORT; use e.g. 127.0.0.1:9464";
    return std::nullopt;
  }

  endpoint result;
  result.host = text.substr(0, colon);
  if (result.host == "localhost")
    result.host = "127.0.0.1";
  in_addr address{};
  if (::inet_pton(AF_INET, result.host.c_str(), &address) != 1) {
    problem = "host '" + text.substr(0, colon) + "' is not an IPv4 address or localhost; use 127.0.0.1";
    return std::nullopt;
  }
  if ((ntohl(address.s_addr) >> 24) != 127) {
    problem = "host '" + result.host + "' is not a loopback address; the metrics are served on 127.0.0.0/8 only";
    return std::nullopt;
  }

  const std::string port = text.substr(colon + 1);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoul(port) > 65535) {
    problem = "port '" + port + "' is not a TCP port; use 1-65535, or 0 for any free port";
    return std::nullopt;
  }
  result.port = static_cast<uint16_t>(std::stoul(port));
  return result;
}

metrics_server::metrics_server(const endpoint& where, text_source metrics) : metrics_(std::move(metrics)) {
  const std::string name = where.host + ":" + std::to_string(where.port);
  socket_guard listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.get() < 0)
    throw std::runtime_error("cannot open a socket for metrics on " + name + ": " + system_error_text());
  const int reuse = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);

  sockaddr_in address = socket_address(where);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot listen for metrics on " + name + ": " + system_error_text());
  if (::listen(listener.get(), 16) != 0)
    throw std::runtime_error("cannot listen for metrics on " + name + ": " + system_error_text());
  socklen_t length = sizeof address;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);

  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot make the metrics server's wake-up pipe: " + system_error_text());
  listener_ = listener.release();
  thread_ = std::thread([this] { serve(); });
}

metrics_server::~metrics_server() {
  stop();
}

void metrics_server::stop() {
  if (!thread_.joinable())
    return;
  const char wake = 1;
  [[maybe_unused]] const auto written = ::write(wake_pipe_[1], &wake, 1);
  thread_.join();
  ::close(listener_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
  listener_ = -1;
}

void metrics_server::serve() {
  while (true) {
    pollfd watched[2] = {{listener_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int ready = ::poll(watched, 2, -1);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0 || (watched[1].revents & POLLIN) != 0)
      return;
    if ((watched[0].revents & POLLIN) == 0)
      continue;

    const socket_guard connection(::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.get() < 0)
      continue;
    set_timeouts(connection.get(), std::chrono::seconds(receive_timeout_seconds));
    respond_to(connection.get());
  }
}

void metrics_server::respond_to(int connection) {
  constexpr const char* plain = "text/plain; charset=utf-8";
  std::string head;
  bool too_large = false;
  if (!read_request_head(connection, head, too_large))
    return;
  if (too_large) {
    respond(connection, 431, plain, "request header larger than 8 KiB\n", true);
    // Read what the client still sends, so closing with unread data does not
    // reset the connection before the client has read the response.
    ::shutdown(connection, SHUT_WR);
    char buffer[4096];
    for (size_t drained = 0; drained < 64 * 1024;) {
      const ssize_t received = ::recv(connection, buffer, sizeof buffer, 0);
      if (received <= 0)
        break;
      drained += static_cast<size_t>(received);
    }
    return;
  }

  // Request line: METHOD SP TARGET SP HTTP/1.x.
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  const auto first_space = line.find(' ');
  const auto second_space = first_space == std::string::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string::npos || line.find(' ', second_space + 1) != std::string::npos) {
    respond(connection, 400, plain, "malformed request line\n", true);
    return;
  }
  const std::string method = line.substr(0, first_space);
  const std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string version = line.substr(second_space + 1);
  const bool valid_target = !target.empty() && target[0] == '/' && is_visible_ascii(target);
  if (!is_token(method) || !valid_target || version.rfind("HTTP/1.", 0) != 0 || version.size() != 8) {
    respond(connection, 400, plain, "malformed request line\n", true);
    return;
  }

  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only) {
    respond(connection, 405, plain, "only GET and HEAD are served\n", true);
    return;
  }
  const std::string path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    respond(connection, 404, plain, "not found; the metrics are at /metrics\n", !head_only);
    return;
  }

  std::string body;
  try {
    body = metrics_();
  } catch (const std::exception& e) {
    log::logger()->error("metrics: cannot collect the figures for GET /metrics: {}", e.what());
    respond(connection, 500, plain, std::string("cannot collect the metrics: ") + e.what() + "\n", !head_only);
    return;
  }
  respond(connection, 200, exposition_content_type, body, !head_only);
}

http_response http_get(const std::string& url, std::chrono::milliseconds timeout) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("URL '" + url + "' does not start with http://");
  const auto path_start = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), path_start - scheme.size());
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  std::string problem;
  const auto where = parse_loopback_endpoint(authority, problem);
  if (!where || where->port == 0)
    throw std::invalid_argument("URL '" + url + "': " + (where ? "port 0 cannot be fetched" : problem));

  const socket_guard connection(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (connection.get() < 0)
    throw std::runtime_error("cannot open a socket for " + url + ": " + system_error_text());
  set_timeouts(connection.get(), timeout);
  sockaddr_in address = socket_address(*where);
  if (::connect(connection.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot connect to " + url + ": " + system_error_text() + "; is the router running?");

  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + authority +
                              "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  if (!send_all(connection.get(), request))
    throw std::runtime_error("cannot send the request to " + url + ": " + system_error_text());

  std::string answer;
  char buffer[16384];
  while (true) {
    const ssize_t received = ::recv(connection.get(), buffer, sizeof buffer, 0);
    if (received < 0 && errno == EINTR)
      continue;
    if (received < 0)
      throw std::runtime_error("no complete response from " + url + ": " + system_error_text());
    if (received == 0)
      break;
    answer.append(buffer, static_cast<size_t>(received));
    if (answer.size() > max_response_bytes)
      throw std::runtime_error("the response from " + url + " is larger than 16 MiB");
  }

  const auto head_end = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || answer.size() < 12)
    throw std::runtime_error("the response from " + url + " is not an HTTP/1.x response");
  http_response response;
  response.status = std::atoi(answer.substr(9, 3).c_str());
  response.body = answer.substr(head_end + 4);

  // Header names are case-insensitive; the router writes them capitalized.
  const std::string head = answer.substr(0, head_end + 2);
  for (size_t start = head.find("\r\n") + 2; start < head.size();) {
    const size_t end = head.find("\r\n", start);
    const std::string field = head.substr(start, end - start);
    start = end + 2;
    const auto colon = field.find(':');
    if (colon == std::string::npos)
      continue;
    std::string name = field.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto value = field.find_first_not_of(' ', colon + 1);
    if (name == "content-type" && value != std::string::npos)
      response.content_type = field.substr(value);
  }
  return response;
}

} // namespace router::stats
