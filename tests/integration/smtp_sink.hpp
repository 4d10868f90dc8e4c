// The aiosmtpd relay of the integration tests (smtp_sink.py), run as a child
// process on 127.0.0.1 and stopped when the object dies.
#pragma once

#include "tests/common/test_support.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace router::testing {

/// aiosmtpd relay on 127.0.0.1, stopped when the object dies.
class smtp_sink {
 public:
  /// Starts the relay with its files under `dir`, on `port`, or on a free port when it is 0.
  explicit smtp_sink(const std::filesystem::path& dir, int port = 0) : mail_dir_(dir / "relay") {
    const std::string script = source_path("tests/integration/smtp_sink.py").string();
    const std::string port_file = (dir / "relay.port").string();
    const std::string dir_text = mail_dir_.string();
    const std::string port_text = std::to_string(port);
    const char* argv[] = {"/usr/bin/python3", script.c_str(),     port_file.c_str(), dir_text.c_str(),
                          "120",              port_text.c_str(), nullptr};
    if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
      throw std::runtime_error("cannot start the aiosmtpd relay");

    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!std::filesystem::exists(port_file))
      throw std::runtime_error("the aiosmtpd relay did not start within 10 s");
    port_ = std::stoi(read_file(port_file));
  }

  ~smtp_sink() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  int port() const { return port_; }

  /// Returns the stored messages in arrival order.
  std::vector<std::filesystem::path> messages() const {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(mail_dir_)) {
      if (entry.path().extension() == ".eml" && entry.path().filename().string()[0] != '.')
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  std::filesystem::path mail_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

} // namespace router::testing
