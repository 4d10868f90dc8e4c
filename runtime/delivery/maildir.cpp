#include "runtime/delivery/maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace router::delivery {

namespace {

std::string safe_name_part(const std::string& text) {
  std::string safe;
  for (unsigned char c : text)
    safe += (std::isalnum(c) != 0 || c == '-' || c == '_') ? static_cast<char>(c) : '_';
  return safe.substr(0, 64);
}

void write_all(int fd, const char* data, size_t size, const std::string& path) {
  size_t written = 0;
  while (written < size) {
    const ssize_t count = ::write(fd, data + written, size - written);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      throw delivery_error("cannot write " + path + ": " + std::strerror(errno), true);
    written += static_cast<size_t>(count);
  }
}

void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return;
  ::fsync(fd);
  ::close(fd);
}

/// Flushes an existing file's data to disk.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw delivery_error("cannot open message file " + path + ": " + std::strerror(errno), false);
  const bool synced = ::fsync(fd) == 0;
  const std::string reason = std::strerror(errno);
  ::close(fd);
  if (!synced)
    throw delivery_error("cannot flush message file " + path + ": " + reason, true);
}

/// Copies a file to a new file in chunks and flushes the copy.
void copy_file_synced(const std::string& source, const std::filesystem::path& target) {
  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    throw delivery_error("cannot open message file " + source + ": " + std::strerror(errno), false);
  const int out = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (out < 0) {
    const std::string reason = std::strerror(errno);
    ::close(in);
    throw delivery_error("cannot create " + target.string() + ": " + reason, true);
  }

  try {
    std::string buffer(256 * 1024, '\0');
    while (true) {
      const ssize_t count = ::read(in, buffer.data(), buffer.size());
      if (count < 0 && errno == EINTR)
        continue;
      if (count < 0)
        throw delivery_error("cannot read message file " + source + ": " + std::strerror(errno), true);
      if (count == 0)
        break;
      write_all(out, buffer.data(), static_cast<size_t>(count), target.string());
    }
    if (::fsync(out) != 0)
      throw delivery_error("cannot flush " + target.string() + ": " + std::strerror(errno), true);
  } catch (...) {
    ::close(in);
    ::close(out);
    ::unlink(target.c_str());
    throw;
  }
  ::close(in);
  ::close(out);
}

} // namespace

maildir_outbox::maildir_outbox(std::filesystem::path directory) : directory_(std::move(directory)) {
  std::error_code error;
  for (const char* sub : {"tmp", "new", "cur"}) {
    std::filesystem::create_directories(directory_ / sub, error);
    if (error)
      throw delivery_error("cannot create outbox folder " + (directory_ / sub).string() + ": " +
                               error.message() + "; check the path and its permissions",
                           false);
  }
}

std::string maildir_outbox::unique_name(const envelope& message) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return std::to_string(micros) + ".P" + std::to_string(::getpid()) + "Q" + std::to_string(++sequence_) + "." +
         safe_name_part(message.job_id) + "-" + std::to_string(message.index) + ".eml";
}

receipt maildir_outbox::move_message_file(const envelope& message, const std::string& name) {
  const std::filesystem::path final_path = directory_ / "new" / name;
  // Built as a private temporary file; outbox messages are readable by the group.
  if (::chmod(message.message_file.c_str(), 0640) != 0)
    throw delivery_error("cannot set the permissions of message file " + message.message_file + ": " +
                             std::strerror(errno),
                         false);
  sync_file(message.message_file);
  if (::rename(message.message_file.c_str(), final_path.c_str()) == 0) {
    sync_directory(directory_ / "new");
    return receipt{final_path.string(), ""};
  }
  if (errno != EXDEV)
    throw delivery_error("cannot move message file " + message.message_file + " into " + final_path.string() + ": " +
                             std::strerror(errno),
                         true);

  // The file is on another file system: copy it into tmp, then rename.
  const std::filesystem::path temporary = directory_ / "tmp" / name;
  copy_file_synced(message.message_file, temporary);
  if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw delivery_error("cannot move " + temporary.string() + " into " + final_path.string() + ": " + reason, true);
  }
  sync_directory(directory_ / "new");
  ::unlink(message.message_file.c_str());
  return receipt{final_path.string(), ""};
}

receipt maildir_outbox::deliver(const envelope& message) {
  const std::string name = unique_name(message);
  if (!message.message_file.empty())
    return move_message_file(message, name);

  const std::filesystem::path temporary = directory_ / "tmp" / name;
  const std::filesystem::path final_path = directory_ / "new" / name;

  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0)
    throw delivery_error("cannot create " + temporary.string() + ": " + std::strerror(errno), true);
  try {
    write_all(fd, message.message.data(), message.message.size(), temporary.string());
    if (::fsync(fd) != 0)
      throw delivery_error("cannot flush " + temporary.string() + ": " + std::strerror(errno), true);
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);

  if (::rename(temporary.c_str(), final_path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw delivery_error("cannot move " + temporary.string() + " into " + final_path.string() + ": " + reason,
                         true);
  }
  sync_directory(directory_ / "new");
  return receipt{final_path.string(), ""};
}

std::string maildir_outbox::describe() const {
  return "outbox " + directory_.string();
}

} // namespace router::delivery
