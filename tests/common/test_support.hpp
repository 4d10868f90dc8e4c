// Helpers shared by the test suites: scratch folders, files, external
// checkers (openssl, gpgsm, python3) and a fixed clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace router::testing {

/// A fresh folder under the system temp folder, removed when the object dies
/// unless ROUTER_KEEP_TEST_FILES is set.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Output and exit status of a finished command.
struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

/// Runs a shell command, with stdin from /dev/null, and returns its status and output.
command_result run_command(const std::string& command);

/// Quotes a string for /bin/sh.
std::string shell_quote(const std::string& text);

void write_file(const std::filesystem::path& path, const std::string& content);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& content);
std::string read_file(const std::filesystem::path& path);

/// Parses "YYYY-MM-DDTHH:MM:SSZ" as a UTC time point; the fixed clocks of the tests.
std::chrono::system_clock::time_point utc(const std::string& iso8601);

/// Returns seconds since the Unix epoch, the form `openssl -attime` takes.
int64_t unix_seconds(std::chrono::system_clock::time_point time);

/// Path of a file in the source tree (environment ROUTER_SOURCE_DIR, else the
/// tree this test was built from).
std::filesystem::path source_path(const std::string& relative);

/// Path of a file in the build tree, e.g. "runtime/cli/smime-router"
/// (environment ROUTER_BINARY_DIR, else the build this test belongs to).
std::filesystem::path binary_path(const std::string& relative);

} // namespace router::testing
