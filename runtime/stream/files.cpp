#include "runtime/stream/files.hpp"

#include "runtime/common/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace router::stream {

namespace {

std::string system_error_text() {
  return std::strerror(errno);
}

/// Closes a file descriptor when it leaves scope.
struct descriptor {
  int fd;
  ~descriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

temporary_file::temporary_file(const std::filesystem::path& directory, const std::string& prefix) {
  std::string pattern = (directory / (prefix + ".XXXXXX")).string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0)
    throw router_error("cannot create a temporary file in " + directory.string() + ": " + system_error_text() +
                       "; check that the folder exists, is writable and has free space");
  path_ = pattern;
}

temporary_file::temporary_file(temporary_file&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), size_(other.size_), keep_(other.keep_) {
  other.fd_ = -1;
  other.keep_ = true;
}

temporary_file::~temporary_file() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!keep_ && !path_.empty())
    ::unlink(path_.c_str());
}

void temporary_file::write(const void* data, size_t length) {
  if (fd_ < 0)
    throw router_error("cannot write " + path_.string() + ": the file is already closed");
  const auto* octets = static_cast<const uint8_t*>(data);
  size_t written = 0;
  while (written < length) {
    const ssize_t count = ::write(fd_, octets + written, length - written);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      throw router_error("cannot write " + path_.string() + ": " + system_error_text() +
                         "; check the free space of its file system");
    written += static_cast<size_t>(count);
  }
  size_ += length;
}

void temporary_file::close() {
  if (fd_ < 0)
    return;
  const int fd = fd_;
  fd_ = -1;
  const bool synced = ::fsync(fd) == 0;
  const std::string reason = synced ? "" : system_error_text();
  if (::close(fd) != 0 || !synced)
    throw router_error("cannot flush " + path_.string() + ": " + (synced ? system_error_text() : reason) +
                       "; check the free space of its file system");
}

std::filesystem::path temporary_file::release() {
  close();
  keep_ = true;
  return path_;
}

uint64_t readable_file_size(const std::filesystem::path& path, const std::string& description) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    throw router_error("cannot read " + description + ": " + system_error_text() +
                       "; check the path and its permissions");
  if (!S_ISREG(status.st_mode))
    throw router_error("cannot read " + description + ": it is not a regular file; give the path of a file");
  if (::access(path.c_str(), R_OK) != 0)
    throw router_error("cannot read " + description + ": " + system_error_text() +
                       "; check the path and its permissions");
  return static_cast<uint64_t>(status.st_size);
}

uint64_t read_file(const std::filesystem::path& path, const std::string& description,
                   std::optional<uint64_t> expected_size, const chunk_consumer& consume) {
  const descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    throw router_error("cannot open " + description + ": " + system_error_text() +
                       "; check the path and its permissions");
  struct stat status {};
  if (::fstat(file.fd, &status) != 0 || !S_ISREG(status.st_mode))
    throw router_error("cannot read " + description + ": it is not a regular file; give the path of a file");
  const uint64_t expected = expected_size.value_or(static_cast<uint64_t>(status.st_size));

  const auto buffer = std::make_unique<uint8_t[]>(chunk_size);
  uint64_t total = 0;
  while (true) {
    const ssize_t count = ::read(file.fd, buffer.get(), chunk_size);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      throw router_error("cannot read " + description + ": " + system_error_text() + "; check the file and its disk");
    if (count == 0)
      break;
    total += static_cast<uint64_t>(count);
    if (total > expected)
      break;
    consume(buffer.get(), static_cast<size_t>(count));
  }
  if (total != expected)
    throw router_error(description + " changed size while it was read (expected " + std::to_string(expected) +
                       " octets, found " + (total > expected ? "more" : std::to_string(total)) +
                       "); send it again once the file is complete");
  return total;
}

} // namespace router::stream
