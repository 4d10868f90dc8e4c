// Certificate health monitor: a periodic (by default daily) check of every
// configured certificate,
// with one warning a day to the administrator while any certificate is
// unusable or about to expire. Days are counted in UTC on the router clock.
#include "actors/actors.hpp"

#include "runtime/compose/compose.hpp"
#include "runtime/config/health.hpp"
#include "runtime/log/log.hpp"

#include <botan/auto_rng.h>
#include <caf/stateful_actor.hpp>

namespace router::actors {

namespace {

struct health_state {
  Botan::AutoSeeded_RNG rng;
  int64_t last_warning_day = -1;  // UTC day number of the last warning sent
};

int warning_days(const config::loaded_config& config) {
  const auto days = config.settings.expiry_warning_days();
  return days == 0 ? 30 : static_cast<int>(days);
}

caf::response_promise run_check(caf::stateful_actor<health_state>* self, const context_ptr& context,
                                const caf::actor& delivery) {
  stats::actor_stats* counters = &context->stats->actor("health");
  const auto handling = begin_pending(self, *counters);
  auto promise = self->make_response_promise();

  const auto now = context->clock();
  const int window = warning_days(*context->config);
  const auto rows = config::check_certificate_health(*context->config, now, window);

  messages::health_check_result result;
  for (const auto& row : rows) {
    if (row.verdict.state != certs::usability::usable)
      result.set_unusable(result.unusable() + 1);
    else if (row.expiring)
      result.set_expiring(result.expiring() + 1);
  }

  const int64_t today = std::chrono::duration_cast<std::chrono::hours>(now.time_since_epoch()).count() / 24;
  const bool due = (result.unusable() > 0 || result.expiring() > 0) && self->state.last_warning_day != today;
  if (!due) {
    handling.done();
    promise.deliver(std::move(result));
    return promise;
  }

  const std::string body = "Certificate health check of the secure send router.\n\n" +
                           std::to_string(result.unusable()) + " certificate(s) cannot be used and " +
                           std::to_string(result.expiring()) + " expire within " + std::to_string(window) +
                           " days:\n\n" + config::format_certificate_health(rows, window) +
                           "\nThis warning is sent at most once a day until the certificates are renewed.\n";
  auto notice = compose::build_administrator_notice(*context->config, "Certificate health warning", body,
                                                    "health-" + std::to_string(today), now, self->state.rng);
  if (notice.message().empty()) {
    counters->count_failure("NO_NOTICE_TARGET");
    log::logger()->warn("health: {} unusable and {} expiring certificate(s); no administrator address to warn",
                        result.unusable(), result.expiring());
    handling.done();
    promise.deliver(std::move(result));
    return promise;
  }
  context->stats->count_crypto_text(notice.algorithms());

  self->state.last_warning_day = today;
  log::logger()->warn("health: {} unusable and {} expiring certificate(s); warning the administrator",
                      result.unusable(), result.expiring());
  self->request(delivery, caf::infinite, std::move(notice))
      .then(
          [promise, result, counters, handling](messages::destination_result& delivered) mutable {
            const bool sent = delivered.reason() == messages::REASON_NONE;
            if (!sent)
              counters->count_failure(messages::reason_code_Name(delivered.reason()));
            result.set_administrator_warned(sent);
            handling.done();
            promise.deliver(std::move(result));
          },
          [promise, result, counters, handling](caf::error&) mutable {
            counters->count_failure("DELIVERY_FAILED");
            handling.done();
            promise.deliver(std::move(result));
          });
  return promise;
}

caf::behavior health_monitor(caf::stateful_actor<health_state>* self, context_ptr context, caf::actor delivery,
                             std::chrono::seconds interval) {
  if (interval.count() > 0) {
    messages::health_check_request first;
    first.set_scheduled(true);
    self->send(self, std::move(first));
  }

  return {
      [self, context, delivery, interval](messages::health_check_request& request) {
        if (request.scheduled())
          self->delayed_send(self, interval, request);
        return run_check(self, context, delivery);
      },
      // The reply to a scheduled check comes back to this actor; nothing waits for it.
      [](messages::health_check_result&) {},
  };
}

} // namespace

caf::actor spawn_health_monitor(caf::actor_system& system, context_ptr context, caf::actor delivery,
                                std::chrono::seconds interval) {
  return system.spawn(health_monitor, std::move(context), std::move(delivery), interval);
}

} // namespace router::actors
