// Validation of the SMTP reception settings: the listen address, the spool
// folder, the routes and the STARTTLS identity.
#include "runtime/config/error_context.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/common/error.hpp"
#include "runtime/smtp/connection.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace router::config {

namespace {

using detail::error_context;

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_numeric_host(const std::string& host, bool bracketed) {
  unsigned char buffer[sizeof(in6_addr)];
  if (bracketed)
    return ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1;
}

void validate_listen(const error_context& errors, const std::string& listen) {
  std::string host;
  try {
    host = smtp::split_host_port(listen).first;
  } catch (const router_error& e) {
    errors.fail("reception", "listen", e.what());
  }
  if (!is_numeric_host(host, listen.front() == '['))
    errors.fail("reception", "listen",
                "host \"" + host + "\" in \"" + listen +
                    "\" is not a numeric IP address; write e.g. 127.0.0.1:2525, or [::1]:2525 for IPv6");
}

/// Checks a host name for the greeting: dot-separated letters, digits and '-'.
bool is_valid_host_name(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
      name.find("..") != std::string::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.';
  });
}

bool is_route_function(source_function function) {
  return function == PERSONAL_BOX || function == FORWARDING || function == SMTP_RECEPTION;
}

std::string route_label(int index, const reception_route& route) {
  std::string label = "reception.routes[" + std::to_string(index) + "]";
  if (!route.address().empty())
    label += " (address '" + route.address() + "')";
  return label;
}

void validate_destination(const error_context& errors, const loaded_config& loaded, const std::string& label,
                          int index, const std::string& destination) {
  const std::string field = "destinations[" + std::to_string(index) + "]";
  if (destination.empty())
    errors.fail(label, field, "empty; name an address-book id or an e-mail address");
  if (destination.find('@') != std::string::npos) {
    if (!config::is_valid_address(destination))
      errors.fail(label, field, "'" + destination + "' is not a valid e-mail address (user@example.com)");
    return;
  }
  if (loaded.find_entry(destination) == nullptr)
    errors.fail(label, field, "'" + destination +
                                  "' is neither an address-book id nor an e-mail address; add the entry to "
                                  "address_book or write the full address");
}

void validate_routes(const error_context& errors, const loaded_config& loaded) {
  const auto& routes = loaded.settings.reception().routes();
  if (routes.empty())
    errors.fail("reception", "routes",
                "missing; add at least one routes { address: \"...\" function: SMTP_RECEPTION "
                "destinations: \"...\" }, because mail for addresses without a route is rejected");

  std::set<std::string> seen;
  for (int i = 0; i < routes.size(); ++i) {
    const reception_route& route = routes.Get(i);
    const std::string label = route_label(i, route);

    if (route.address().empty())
      errors.fail(label, "address", "missing; set the recipient address this route receives");
    if (!config::is_valid_address(route.address()))
      errors.fail(label, "address", "'" + route.address() + "' is not a valid e-mail address (box@example.com)");
    if (!seen.insert(to_lower(route.address())).second)
      errors.fail(label, "address", "duplicate route for '" + route.address() +
                                        "' (addresses are compared without case); keep one route per address");
    if (!is_route_function(route.function()))
      errors.fail(label, "function",
                  (source_function_IsValid(route.function()) ? function_name(route.function())
                                                              : std::to_string(route.function())) +
                      " is not a routing function; use PERSONAL_BOX, FORWARDING or SMTP_RECEPTION");
    if (route.destinations().empty())
      errors.fail(label, "destinations", "missing; name at least one address-book id or e-mail address");
    for (int j = 0; j < route.destinations_size(); ++j)
      validate_destination(errors, loaded, label, j, route.destinations(j));
  }
}

void validate_tls(const error_context& errors, loaded_config& loaded) {
  const tls_identity& tls = loaded.settings.reception().tls();
  if (tls.certificate_file().empty())
    errors.fail("reception", "tls.certificate_file",
                "missing; STARTTLS needs a certificate, so set it or remove the tls block");
  if (tls.private_key_file().empty())
    errors.fail("reception", "tls.private_key_file", "missing; the STARTTLS certificate needs its private key");

  try {
    loaded.reception_tls_certificate = certs::load_certificate(tls.certificate_file());
  } catch (const router_error& e) {
    errors.fail("reception", "tls.certificate_file", e.what());
  }
  try {
    loaded.reception_tls_key = certs::load_private_key(tls.private_key_file());
  } catch (const router_error& e) {
    errors.fail("reception", "tls.private_key_file", e.what());
  }
  if (!certs::key_matches_certificate(*loaded.reception_tls_key, *loaded.reception_tls_certificate))
    errors.fail("reception", "tls.private_key_file",
                "the key in " + tls.private_key_file() + " does not belong to the certificate in " +
                    tls.certificate_file() + "; configure the matching pair");

  for (int i = 0; i < tls.chain_files_size(); ++i) {
    try {
      for (auto& certificate : certs::load_certificates(tls.chain_files(i)))
        loaded.reception_tls_chain.push_back(std::move(certificate));
    } catch (const router_error& e) {
      errors.fail("reception", "tls.chain_files[" + std::to_string(i) + "]", e.what());
    }
  }
}

} // namespace

namespace detail {

void validate_reception(const error_context& errors, loaded_config& loaded) {
  const smtp_reception& reception = loaded.settings.reception();
  if (reception.listen().empty())
    return;

  validate_listen(errors, reception.listen());
  if (!reception.host_name().empty() && !is_valid_host_name(reception.host_name()))
    errors.fail("reception", "host_name",
                "'" + reception.host_name() + "' is not a valid host name; use letters, digits, '-' and '.'");
  if (reception.spool_directory().empty())
    errors.fail("reception", "spool_directory",
                "missing; name a folder where received messages are kept until they are sent on");
  validate_routes(errors, loaded);
  if (reception.retry_first_seconds() != 0 && reception.retry_max_seconds() != 0 &&
      reception.retry_max_seconds() < reception.retry_first_seconds())
    errors.fail("reception", "retry_max_seconds",
                std::to_string(reception.retry_max_seconds()) + " is less than retry_first_seconds (" +
                    std::to_string(reception.retry_first_seconds()) + "); raise it or lower retry_first_seconds");
  if (reception.has_tls())
    validate_tls(errors, loaded);
}

} // namespace detail

smtp_reception reception_with_defaults(const smtp_reception& settings) {
  smtp_reception filled = settings;
  if (filled.host_name().empty())
    filled.set_host_name(default_reception_host_name);
  if (filled.max_message_size() == 0)
    filled.set_max_message_size(default_max_message_size);
  if (filled.max_recipients() == 0)
    filled.set_max_recipients(default_max_recipients);
  if (filled.max_sessions() == 0)
    filled.set_max_sessions(default_max_sessions);
  if (filled.command_timeout_seconds() == 0)
    filled.set_command_timeout_seconds(default_command_timeout_seconds);
  if (filled.data_timeout_seconds() == 0)
    filled.set_data_timeout_seconds(default_data_timeout_seconds);
  if (filled.retry_first_seconds() == 0)
    filled.set_retry_first_seconds(default_retry_first_seconds);
  if (filled.retry_max_seconds() == 0)
    filled.set_retry_max_seconds(std::max(default_retry_max_seconds, filled.retry_first_seconds()));
  if (filled.max_queue_seconds() == 0)
    filled.set_max_queue_seconds(default_max_queue_seconds);
  return filled;
}

} // namespace router::config
