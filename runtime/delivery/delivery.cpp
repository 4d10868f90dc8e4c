#include "runtime/delivery/delivery.hpp"

#include "runtime/delivery/maildir.hpp"
#include "runtime/delivery/smtp_client.hpp"

namespace router::delivery {

std::chrono::milliseconds retry_policy::delay_before(int attempt) const {
  if (attempt <= 1)
    return std::chrono::milliseconds(0);
  return first_delay * (1LL << std::min(attempt - 2, 16));
}

bool retry_policy::should_retry(const delivery_error& error, int attempt) const {
  return error.temporary() && attempt < max_attempts;
}

std::unique_ptr<deliverer> make_deliverer(const config::delivery_target& target) {
  if (target.has_smtp_relay()) {
    const auto& relay = target.smtp_relay();
    const std::string helo = relay.helo_name().empty() ? "localhost" : relay.helo_name();
    const auto timeout = std::chrono::seconds(relay.timeout_seconds() == 0 ? 30 : relay.timeout_seconds());
    return std::make_unique<smtp_client>(relay.host(), static_cast<uint16_t>(relay.port()), helo, timeout);
  }
  return std::make_unique<maildir_outbox>(target.outbox().directory());
}

} // namespace router::delivery
