#include "tests/common/test_support.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>
#include <stdexcept>

namespace router::testing {

scratch_dir::scratch_dir() {
  std::random_device seed;
  std::mt19937_64 generator(seed());
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() /
                     ("router-test-" + std::to_string(generator() % 1000000000ULL));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch folder under the temp folder");
}

scratch_dir::~scratch_dir() {
  if (std::getenv("ROUTER_KEEP_TEST_FILES") != nullptr)
    return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

command_result run_command(const std::string& command) {
  command_result result;
  const std::string full = "(" + command + ") </dev/null 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr)
    return result;

  std::array<char, 4096> buffer{};
  size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), count);

  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path.string());
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& content) {
  write_file(path, std::string(content.begin(), content.end()));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::chrono::system_clock::time_point utc(const std::string& iso8601) {
  std::tm fields{};
  std::istringstream in(iso8601);
  in >> std::get_time(&fields, "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail())
    throw std::invalid_argument("not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ: " + iso8601);
  return std::chrono::system_clock::from_time_t(::timegm(&fields));
}

int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::filesystem::path source_path(const std::string& relative) {
  const char* root = std::getenv("ROUTER_SOURCE_DIR");
  return std::filesystem::path(root != nullptr ? root : ROUTER_SOURCE_DIR) / relative;
}

std::filesystem::path binary_path(const std::string& relative) {
  const char* root = std::getenv("ROUTER_BINARY_DIR");
  return std::filesystem::path(root != nullptr ? root : ROUTER_BINARY_DIR) / relative;
}

} // namespace router::testing
