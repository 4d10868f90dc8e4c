#include "runtime/smtp/connection.hpp"

#include "runtime/common/error.hpp"
#include "runtime/smtp/tls_session.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace router::smtp {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

/// Returns what to do about a failed bind or listen, with a leading "; ".
std::string bind_advice(int error) {
  switch (error) {
    case EADDRINUSE:
      return "; another program uses this port, so pick a free port, or port 0 for any free one";
    case EADDRNOTAVAIL:
      return "; this host does not own that address, so use one it owns, such as 127.0.0.1";
    case EACCES:
      return "; ports below 1024 need privileges, so pick a port from 1024 up";
    default:
      return "";
  }
}

int poll_one(int fd, short events, milliseconds timeout) {
  pollfd descriptor{fd, events, 0};
  int ready = 0;
  do {
    ready = ::poll(&descriptor, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready;
}

std::string address_text(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    port = ntohs(v4.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
  port = ntohs(v6.sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

} // namespace

std::string printable(std::string_view text, size_t limit) {
  std::string clean;
  for (unsigned char c : text) {
    if (clean.size() >= limit) {
      clean += "...";
      break;
    }
    if (c == '\r')
      continue;
    clean += (c == '\n') ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  while (!clean.empty() && clean.back() == ' ')
    clean.pop_back();
  return clean;
}

std::pair<std::string, uint16_t> split_host_port(const std::string& address) {
  std::string host;
  std::string port_text;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
      throw router_error("address \"" + address + "\" is not HOST:PORT; write an IPv6 address as [::1]:2525");
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw router_error("address \"" + address + "\" is not HOST:PORT, e.g. 127.0.0.1:2525");
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535)
    throw router_error("address \"" + address + "\" has no valid port; give a number from 0 to 65535");
  return {host, static_cast<uint16_t>(std::stoul(port_text))};
}

std::unique_ptr<connection> connection::connect(const std::string& host, uint16_t port, milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
  if (status != 0)
    throw connection_error("cannot resolve " + host + ": " + ::gai_strerror(status), false);

  std::string last_error = "no address";
  bool timed_out = false;
  for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    const int fd =
        ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, address->ai_protocol);
    if (fd < 0)
      continue;
    int result = ::connect(fd, address->ai_addr, address->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
      const int ready = poll_one(fd, POLLOUT, timeout);
      int error = 0;
      socklen_t length = sizeof error;
      if (ready > 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
        result = 0;
      else if (ready == 0)
        timed_out = true, errno = ETIMEDOUT;
      else if (error != 0)
        errno = error;
    }
    if (result == 0) {
      sockaddr_storage peer{};
      std::memcpy(&peer, address->ai_addr, address->ai_addrlen);
      ::freeaddrinfo(addresses);
      return std::make_unique<connection>(fd, address_text(peer));
    }
    last_error = errno_text();
    ::close(fd);
  }
  ::freeaddrinfo(addresses);
  throw connection_error("cannot connect to " + host + ":" + service + ": " + last_error, timed_out);
}

connection::connection(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}

connection::~connection() {
  if (tls_)
    tls_->close_quietly();
  if (fd_ >= 0)
    ::close(fd_);
}

void connection::wait_for(short events, milliseconds timeout, const char* activity) {
  const int ready = poll_one(fd_, events, timeout);
  if (ready == 0)
    throw connection_error(std::string("timed out while ") + activity, true);
  if (ready < 0)
    throw connection_error(std::string("poll failed: ") + errno_text(), false);
}

size_t connection::receive_raw(char* data, size_t size, milliseconds timeout) {
  while (true) {
    wait_for(POLLIN, timeout, "waiting for the peer");
    const ssize_t count = ::recv(fd_, data, size, MSG_DONTWAIT);
    if (count < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
      continue;
    if (count < 0)
      throw connection_error("connection lost: " + errno_text(), false);
    return static_cast<size_t>(count);
  }
}

bool connection::fill(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    char chunk[16 * 1024];
    const size_t count = receive_raw(chunk, sizeof chunk, remaining_until(deadline));
    if (count == 0)
      return false;
    if (!tls_) {
      buffer_.append(chunk, count);
      return true;
    }

    // A TLS record may span several reads, and some records (alerts,
    // renegotiation refusals) carry no application data.
    const size_t before = buffer_.size();
    tls_->receive(chunk, count, remaining_until(deadline));
    if (buffer_.size() > before)
      return true;
    if (tls_->closed())
      return false;
  }
}

connection::line connection::read_line(size_t max_length, milliseconds timeout) {
  line result;
  size_t scanned = 0;
  while (true) {
    const auto end = buffer_.find('\n', scanned);
    if (end != std::string::npos) {
      size_t text_end = end;
      result.bare_lf = !(end > 0 && buffer_[end - 1] == '\r');
      if (!result.bare_lf)
        --text_end;
      if (!result.too_long) {
        result.too_long = text_end > max_length;
        result.text = buffer_.substr(0, std::min(text_end, max_length));
      }
      buffer_.erase(0, end + 1);
      return result;
    }
    if (buffer_.size() > max_length + 1) {
      // Keep the first max_length octets; drop the rest of the line as it arrives.
      if (!result.too_long) {
        result.text = buffer_.substr(0, max_length);
        result.too_long = true;
      }
      const bool keep_cr = buffer_.back() == '\r';
      buffer_.clear();
      if (keep_cr)
        buffer_ = "\r";
    }
    scanned = buffer_.size();
    if (!fill(timeout))
      throw connection_error("peer closed the connection", false);
  }
}

bool connection::has_buffered_input() const {
  return !buffer_.empty();
}

void connection::discard_buffered_input() {
  buffer_.clear();
}

bool connection::has_pending_input() {
  return !buffer_.empty() || poll_one(fd_, POLLIN, milliseconds(0)) != 0;
}

void connection::send_raw(std::string_view data, milliseconds timeout) {
  size_t sent = 0;
  while (sent < data.size()) {
    wait_for(POLLOUT, timeout, "sending");
    const ssize_t count = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (count < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
      continue;
    if (count < 0)
      throw connection_error("connection lost while sending: " + errno_text(), false);
    sent += static_cast<size_t>(count);
  }
}

void connection::write_all(std::string_view data, milliseconds timeout) {
  if (tls_)
    tls_->send(data, timeout);
  else
    send_raw(data, timeout);
}

listener::listener(const std::string& address) {
  const auto [host, port] = split_host_port(address);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo* addresses = nullptr;
  const int status = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addresses);
  if (status != 0 || addresses == nullptr)
    throw router_error("cannot listen on \"" + address + "\": the host must be a numeric IP address, e.g. 127.0.0.1");
  // Non-blocking, so accept() after poll() cannot block when the pending
  // connection went away in between.
  fd_ = ::socket(addresses->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    ::freeaddrinfo(addresses);
    throw router_error("cannot listen on \"" + address + "\": " + errno_text());
  }
  const int reuse = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  const bool bound = ::bind(fd_, addresses->ai_addr, addresses->ai_addrlen) == 0 && ::listen(fd_, 64) == 0;
  const int bind_error = errno;
  ::freeaddrinfo(addresses);
  if (!bound) {
    ::close(fd_);
    fd_ = -1;
    throw router_error("cannot listen on \"" + address + "\": " + std::strerror(bind_error) + bind_advice(bind_error));
  }
  sockaddr_storage bound_address{};
  socklen_t length = sizeof bound_address;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound_address), &length);
  port_ = ntohs(bound_address.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(bound_address).sin_port
                                                   : reinterpret_cast<sockaddr_in6&>(bound_address).sin6_port);
  address_ = address_text(bound_address);
}

listener::~listener() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::unique_ptr<connection> listener::accept(milliseconds timeout) {
  const int ready = poll_one(fd_, POLLIN, timeout);
  if (ready <= 0)
    return nullptr;
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
  if (fd < 0)
    return nullptr;
  return std::make_unique<connection>(fd, address_text(peer));
}

} // namespace router::smtp
