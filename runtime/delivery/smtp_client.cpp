#include "runtime/delivery/smtp_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace router::delivery {

namespace {

constexpr size_t max_reply_length = 64 * 1024;

/// Makes peer text printable and short enough for a log line or a result.
std::string printable(const std::string& text, size_t limit = 300) {
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

/// A connected socket with a read buffer; closes itself.
class smtp_connection {
 public:
  smtp_connection(const std::string& host, uint16_t port, std::chrono::seconds timeout) : timeout_(timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    const std::string service = std::to_string(port);
    const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
    if (status != 0)
      throw delivery_error("cannot resolve relay " + host + ": " + ::gai_strerror(status), true);

    std::string last_error = "no address";
    for (addrinfo* address = addresses; address != nullptr && fd_ < 0; address = address->ai_next) {
      const int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
      if (fd < 0)
        continue;
      if (::connect(fd, address->ai_addr, address->ai_addrlen) == 0) {
        fd_ = fd;
        break;
      }
      last_error = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(addresses);
    if (fd_ < 0)
      throw delivery_error("cannot connect to relay " + host + ":" + service + ": " + last_error, true);
  }

  ~smtp_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  smtp_connection(const smtp_connection&) = delete;
  smtp_connection& operator=(const smtp_connection&) = delete;

  void send_text(const std::string& text) {
    size_t sent = 0;
    while (sent < text.size()) {
      wait_for(POLLOUT, "sending");
      const ssize_t count = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (count < 0 && errno == EINTR)
        continue;
      if (count < 0)
        throw delivery_error(std::string("connection to relay lost while sending: ") + std::strerror(errno), true);
      sent += static_cast<size_t>(count);
    }
  }

  /// Reads one complete (possibly multi-line) reply and returns its code and text.
  std::pair<int, std::string> read_reply() {
    std::string reply;
    while (true) {
      const std::string line = read_line();
      reply += line + "\n";
      if (line.size() < 3 || reply.size() > max_reply_length)
        throw delivery_error("relay sent an invalid reply: " + printable(line), true);
      if (line.size() == 3 || line[3] == ' ')
        break;
    }
    const int code = std::atoi(reply.substr(0, 3).c_str());
    if (code < 200 || code > 599)
      throw delivery_error("relay sent an invalid reply: " + printable(reply), true);
    return {code, printable(reply)};
  }

 private:
  void wait_for(short events, const char* activity) {
    pollfd descriptor{fd_, events, 0};
    const int timeout_ms = static_cast<int>(std::chrono::milliseconds(timeout_).count());
    int ready = 0;
    do {
      ready = ::poll(&descriptor, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0)
      throw delivery_error(std::string("relay timed out while ") + activity, true);
    if (ready < 0)
      throw delivery_error(std::string("poll failed: ") + std::strerror(errno), true);
  }

  std::string read_line() {
    while (true) {
      const auto end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      if (buffer_.size() > max_reply_length)
        throw delivery_error("relay sent a reply line that is too long", true);

      wait_for(POLLIN, "waiting for a reply");
      char chunk[4096];
      const ssize_t count = ::recv(fd_, chunk, sizeof chunk, 0);
      if (count < 0 && errno == EINTR)
        continue;
      if (count <= 0)
        throw delivery_error("relay closed the connection", true);
      buffer_.append(chunk, static_cast<size_t>(count));
    }
  }

  int fd_ = -1;
  std::chrono::seconds timeout_;
  std::string buffer_;
};

/// Throws delivery_error unless the reply code is `expected`.
void expect(const std::pair<int, std::string>& reply, int expected, const std::string& step) {
  if (reply.first == expected)
    return;
  const bool temporary = reply.first >= 400 && reply.first < 500;
  throw delivery_error("relay rejected " + step + ": " + reply.second, temporary);
}

} // namespace

std::string dot_stuff(const std::string& message) {
  std::string stuffed;
  stuffed.reserve(message.size() + message.size() / 64 + 5);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.')
      stuffed += '.';
    stuffed += c;
    line_start = (c == '\n');
  }
  if (!stuffed.empty() && stuffed.back() != '\n')
    stuffed += "\r\n";
  stuffed += ".\r\n";
  return stuffed;
}

smtp_client::smtp_client(std::string host, uint16_t port, std::string helo_name, std::chrono::seconds timeout)
    : host_(std::move(host)), port_(port), helo_name_(std::move(helo_name)), timeout_(timeout) {}

receipt smtp_client::deliver(const envelope& message) {
  smtp_connection connection(host_, port_, timeout_);
  expect(connection.read_reply(), 220, "the connection");

  connection.send_text("EHLO " + helo_name_ + "\r\n");
  auto reply = connection.read_reply();
  if (reply.first != 250) {
    connection.send_text("HELO " + helo_name_ + "\r\n");
    expect(connection.read_reply(), 250, "HELO");
  }

  connection.send_text("MAIL FROM:<" + message.mail_from + ">\r\n");
  expect(connection.read_reply(), 250, "MAIL FROM");
  for (const auto& recipient : message.recipients) {
    connection.send_text("RCPT TO:<" + recipient + ">\r\n");
    const auto rcpt_reply = connection.read_reply();
    if (rcpt_reply.first != 250 && rcpt_reply.first != 251)
      expect(rcpt_reply, 250, "recipient " + recipient);
  }

  connection.send_text("DATA\r\n");
  expect(connection.read_reply(), 354, "DATA");
  connection.send_text(dot_stuff(message.message));
  const auto accepted = connection.read_reply();
  expect(accepted, 250, "the message");

  connection.send_text("QUIT\r\n");
  return receipt{"", accepted.second};
}

std::string smtp_client::describe() const {
  return "SMTP relay " + host_ + ":" + std::to_string(port_);
}

} // namespace router::delivery
