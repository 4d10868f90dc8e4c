// File helpers for the streaming encoders: temporary files that remove
// themselves, a writer that reports the path on failure, and chunked reads
// that catch a file that changes size while it is read.
//
// Every failure throws router::router_error with the path and what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace router::stream {

/// Octets read per system call. Peak memory of a streamed build is a small
/// multiple of this, whatever the document size.
constexpr size_t chunk_size = 256 * 1024;

/// Receives the octets of a file or content, one piece at a time.
using chunk_consumer = std::function<void(const uint8_t* data, size_t length)>;

/// A writable file that is removed by the destructor unless release() was called.
class temporary_file {
 public:
  /// Creates a new empty file DIRECTORY/PREFIX.XXXXXX with mode 0600.
  temporary_file(const std::filesystem::path& directory, const std::string& prefix);
  ~temporary_file();
  temporary_file(temporary_file&& other) noexcept;
  temporary_file& operator=(temporary_file&&) = delete;
  temporary_file(const temporary_file&) = delete;
  temporary_file& operator=(const temporary_file&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Appends octets; throws router_error naming the file on a write error.
  void write(const void* data, size_t length);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void write(const std::vector<uint8_t>& octets) { write(octets.data(), octets.size()); }

  /// Returns the octets written so far.
  uint64_t size() const { return size_; }

  /// Flushes the file to disk and closes it; later writes throw.
  void close();

  /// Closes the file and keeps it: the caller now owns its removal.
  std::filesystem::path release();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool keep_ = false;
};

/// Reads a file in chunks of chunk_size and passes them to `consume`. `description`
/// names the file in errors, e.g. "attachment file /scans/a.pdf". When
/// `expected_size` is set, a file of another length is an error; without it
/// the length found when the file is opened is expected. Returns the octets read.
uint64_t read_file(const std::filesystem::path& path, const std::string& description,
                   std::optional<uint64_t> expected_size, const chunk_consumer& consume);

/// Returns a file's size, or throws router_error naming `description` when it is
/// missing, unreadable or not a regular file.
uint64_t readable_file_size(const std::filesystem::path& path, const std::string& description);

} // namespace router::stream
