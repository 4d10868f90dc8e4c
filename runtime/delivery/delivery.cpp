#include "runtime/delivery/delivery.hpp"

#include "runtime/delivery/maildir.hpp"
#include "runtime/delivery/smtp_client.hpp"

#include "runtime/common/error.hpp"

#include <filesystem>
#include <fstream>

namespace router::delivery {

std::chrono::milliseconds retry_policy::delay_before(int attempt) const {
  if (attempt <= 1)
    return std::chrono::milliseconds(0);
  return first_delay * (1LL << std::min(attempt - 2, 16));
}

bool retry_policy::should_retry(const delivery_error& error, int attempt) const {
  return error.temporary() && attempt < max_attempts;
}

std::string read_password_file(const std::string& path) {
  std::error_code error;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, error))
    throw router_error("cannot read the password file " + path + "; check the path and its permissions");

  std::string password;
  std::getline(in, password);
  if (in.bad())
    throw router_error("cannot read the password file " + path + "; check the path and its permissions");
  if (!password.empty() && password.back() == '\r')
    password.pop_back();
  if (!password.empty())
    return password;

  // Only the first line is read, so text further down is a misplaced password.
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      throw router_error("the first line of the password file " + path +
                         " is blank, but a later line has text; write the password on the first line, "
                         "because only that line is read");
  }
  throw router_error("the password file " + path + " is empty; write the password on its first line");
}

namespace {

smtp_relay_settings relay_settings(const config::smtp_relay_target& relay) {
  smtp_relay_settings settings;
  settings.host = relay.host();
  settings.port = static_cast<uint16_t>(relay.port());
  if (!relay.helo_name().empty())
    settings.helo_name = relay.helo_name();
  if (relay.timeout_seconds() != 0)
    settings.timeout = std::chrono::seconds(relay.timeout_seconds());
  settings.starttls = relay.starttls() == config::STARTTLS_MODE_UNSPECIFIED ? config::OPPORTUNISTIC : relay.starttls();
  settings.tls_server_name = relay.tls_server_name();
  settings.username = relay.username();

  try {
    if (settings.starttls != config::NEVER) {
      const std::vector<std::string> files(relay.tls_trust_anchor_files().begin(),
                                           relay.tls_trust_anchor_files().end());
      settings.trust = files.empty() ? smtp::tls_client_trust::system_store() : smtp::tls_client_trust::from_files(files);
    }
    if (!settings.username.empty())
      settings.password = read_password_file(relay.password_file());
  } catch (const router_error& e) {
    throw delivery_error(std::string("cannot set up the SMTP relay: ") + e.what(), false);
  }
  return settings;
}

} // namespace

std::unique_ptr<deliverer> make_deliverer(const config::delivery_target& target) {
  if (target.has_smtp_relay())
    return std::make_unique<smtp_client>(relay_settings(target.smtp_relay()));
  return std::make_unique<maildir_outbox>(target.outbox().directory());
}

} // namespace router::delivery
