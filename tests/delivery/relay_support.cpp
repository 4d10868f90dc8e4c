#include "tests/delivery/relay_support.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace router::testing {

namespace fs = std::filesystem;

namespace {

void run_openssl(const std::string& arguments) {
  const auto result = run_command("openssl " + arguments);
  if (result.exit_code != 0)
    throw std::runtime_error("openssl " + arguments + " failed: " + result.output);
}

} // namespace

relay_certificates make_relay_certificates(const fs::path& dir) {
  fs::create_directories(dir);
  const auto file = [&dir](const std::string& name) { return shell_quote((dir / name).string()); };

  write_file(dir / "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
  write_file(dir / "server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                                 "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
  for (const std::string name : {"ca", "other-ca"}) {
    run_openssl("req -x509 -newkey rsa:2048 -nodes -days 30 -subj " + shell_quote("/CN=Test " + name) +
                " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout " +
                file(name + ".key") + " -out " + file(name + ".pem"));
  }
  run_openssl("req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + file("server.key") + " -out " +
              file("server.csr"));
  run_openssl("x509 -req -days 30 -in " + file("server.csr") + " -CA " + file("ca.pem") + " -CAkey " +
              file("ca.key") + " -CAcreateserial -extfile " + file("server.ext") + " -out " +
              file("server.pem"));
  return relay_certificates{dir / "ca.pem", dir / "server.pem", dir / "server.key", dir / "other-ca.pem"};
}

test_relay::test_relay(const fs::path& dir, const std::vector<std::string>& options) : dir_(dir) {
  fs::create_directories(dir_);
  const fs::path port_file = dir_ / "relay.port";
  std::vector<std::string> arguments = {"/usr/bin/python3",
                                        source_path("tests/delivery/relay.py").string(),
                                        "--port-file",
                                        port_file.string(),
                                        "--mail-dir",
                                        (dir_ / "mail").string(),
                                        "--events",
                                        (dir_ / "events").string(),
                                        "--seconds",
                                        "120"};
  arguments.insert(arguments.end(), options.begin(), options.end());
  std::vector<char*> argv;
  for (auto& argument : arguments)
    argv.push_back(argument.data());
  argv.push_back(nullptr);
  if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start /usr/bin/python3 for relay.py");

  for (int i = 0; i < 200 && !fs::exists(port_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (!fs::exists(port_file))
    throw std::runtime_error("relay.py did not start within 10 s");
  port_ = static_cast<uint16_t>(std::stoi(read_file(port_file)));
}

test_relay::~test_relay() {
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::vector<std::string> test_relay::events() const {
  std::vector<std::string> lines;
  std::ifstream in(dir_ / "events");
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

size_t test_relay::count(const std::string& prefix) const {
  const auto lines = events();
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&prefix](const std::string& line) {
    return line.rfind(prefix, 0) == 0;
  }));
}

bool test_relay::wait_for(const std::string& prefix, size_t expected) const {
  for (int i = 0; i < 200; ++i) {
    if (count(prefix) >= expected)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<std::string> test_relay::messages() const {
  std::vector<fs::path> files;
  if (fs::exists(dir_ / "mail")) {
    for (const auto& entry : fs::directory_iterator(dir_ / "mail")) {
      if (entry.path().extension() == ".eml" && entry.path().filename().string()[0] != '.')
        files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> contents;
  for (const auto& file : files)
    contents.push_back(read_file(file));
  return contents;
}

} // namespace router::testing
