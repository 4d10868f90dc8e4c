#include "runtime/delivery/smtp_file_data.hpp"

#include "runtime/delivery/delivery.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace router::delivery {

void send_message_file(const std::filesystem::path& file, const std::function<void(std::string_view)>& send,
                       size_t chunk_size) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw delivery_error("cannot open message file " + file.string() + ": " + std::strerror(errno), true);

  std::string buffer(chunk_size == 0 ? 1 : chunk_size, '\0');
  std::string stuffed;
  // The state that crosses chunk borders: whether the next octet starts a
  // line, and the last octet sent, to end the data with CR LF.
  bool line_start = true;
  char last = '\n';
  bool empty = true;
  while (true) {
    const ssize_t count = ::read(fd, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw delivery_error("cannot read message file " + file.string() + ": " + reason, true);
    }
    if (count == 0)
      break;

    stuffed.clear();
    for (ssize_t i = 0; i < count; ++i) {
      const char c = buffer[static_cast<size_t>(i)];
      if (line_start && c == '.')
        stuffed += '.';
      stuffed += c;
      line_start = c == '\n';
    }
    last = buffer[static_cast<size_t>(count - 1)];
    empty = false;
    try {
      send(stuffed);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  ::close(fd);

  send(!empty && last != '\n' ? "\r\n.\r\n" : ".\r\n");
}

} // namespace router::delivery
