// Config loading and validation.
//
// Reads the router config (protobuf text format), resolves file paths against
// the config file's folder, loads every certificate and key it names, and
// checks every field. Any problem throws config_error whose message names the
// file, the entry and the field, so the service never starts half-configured.
// Certificate expiry is not a load error: it is judged when a message is built.
#pragma once

#include "config.pb.h"
#include "runtime/certs/usability.hpp"
#include "runtime/policy/policy.hpp"

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace router::config {

/// Invalid or unreadable configuration; the message names file, entry and field.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The validated config with everything it names loaded into memory.
struct loaded_config {
  router_config settings;            // file paths made absolute
  std::filesystem::path source_file;
  std::optional<Botan::X509_Certificate> device_certificate;
  std::shared_ptr<const Botan::Private_Key> device_key;
  std::vector<Botan::X509_Certificate> device_chain;
  std::vector<Botan::X509_Certificate> trust_anchors;
  certs::trust_store trust;  // anchors, intermediates (device chain and non-root trust files), CRLs
  std::map<std::string, Botan::X509_Certificate> destination_certificates;  // by entry id
  policy::certificate_index certificate_index;

  // STARTTLS identity of the SMTP reception server; empty unless reception.tls is set.
  std::optional<Botan::X509_Certificate> reception_tls_certificate;
  std::shared_ptr<const Botan::Private_Key> reception_tls_key;
  std::vector<Botan::X509_Certificate> reception_tls_chain;

  /// Returns the address-book entry with this id, or nullptr.
  const address_entry* find_entry(const std::string& id) const;
};

/// Loads and validates a config file.
loaded_config load_config(const std::filesystem::path& file);

/// Loads and validates config text; `file` names it in messages and anchors relative paths.
loaded_config load_config_text(const std::string& text, const std::filesystem::path& file);

/// Returns the protobuf enum value name for a source function, e.g. "FORWARDING".
std::string function_name(source_function function);

/// Parses a function name as written in configs and on the command line
/// ("FORWARDING" or "forwarding"); returns nullopt when unknown.
std::optional<source_function> parse_function_name(const std::string& name);

/// Defaults of the SMTP reception settings, used where a field is 0 or empty.
constexpr uint64_t default_max_message_size = 10 * 1024 * 1024;  // octets
constexpr uint32_t default_max_recipients = 100;
constexpr uint32_t default_max_sessions = 16;
constexpr uint32_t default_command_timeout_seconds = 300;
constexpr uint32_t default_data_timeout_seconds = 180;
constexpr const char* default_reception_host_name = "localhost";
constexpr uint32_t default_retry_first_seconds = 60;
constexpr uint32_t default_retry_max_seconds = 3600;
constexpr uint32_t default_max_queue_seconds = 5 * 24 * 3600;

/// Returns a copy of the reception settings with every unset limit, timeout,
/// retry delay and the host name replaced by its default.
smtp_reception reception_with_defaults(const smtp_reception& settings);

/// Returns true for a plain addr-spec: one '@', a local part and a dotted domain,
/// no spaces, no control characters.
bool is_valid_address(const std::string& address);

} // namespace router::config
