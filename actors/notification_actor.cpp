// Notification actor: sends the certificate-failure notice of a forwarded or
// routed job to its originator, or to the end receiver when the originator is
// unknown, sends the non-delivery notice of a received message to its sender,
// and notifies the administrator once per device-certificate problem.
// Notices go through the delivery actor like any message.
#include "actors/actors.hpp"

#include "runtime/compose/compose.hpp"
#include "runtime/log/log.hpp"

#include <botan/auto_rng.h>
#include <caf/stateful_actor.hpp>

#include <set>

namespace router::actors {

namespace {

struct notifier_state {
  Botan::AutoSeeded_RNG rng;
  std::set<std::string> notified_device_problems;  // causes the administrator has already been notified of
};

/// Tells the administrator about a device-certificate problem once per cause.
caf::response_promise notify_administrator(caf::stateful_actor<notifier_state>* self, const context_ptr& context,
                                           const caf::actor& delivery, const std::string& job_id,
                                           const pending_handling& handling) {
  auto promise = self->make_response_promise();
  messages::destination_result result;
  result.set_job_id(job_id + "-admin");

  const auto problem = compose::check_device_certificate(*context->config, context->clock());
  if (!problem || !self->state.notified_device_problems.insert(problem->cause).second) {
    // Already notified, or fixed meanwhile, so there is nothing to send for this job.
    result.set_outcome(messages::OUTCOME_UNSPECIFIED);
    handling.done();
    promise.deliver(std::move(result));
    return promise;
  }

  auto notice = compose::build_device_certificate_notice(*context->config, *problem, job_id, context->clock(),
                                                         self->state.rng);
  if (notice.message().empty()) {
    handling.counters->count_failure("NO_NOTICE_TARGET");
    log::logger()->error("job {}: {}; no administrator address is configured to tell", job_id, problem->detail);
    result.set_outcome(messages::FAILED);
    result.set_reason(messages::NO_NOTICE_TARGET);
    handling.done();
    promise.deliver(std::move(result));
    return promise;
  }

  context->stats->count_crypto_text(notice.algorithms());

  log::logger()->error("job {}: {}; telling the administrator once", job_id, problem->detail);
  self->request(delivery, caf::infinite, std::move(notice))
      .then(
          [promise, handling](messages::destination_result& delivered) mutable {
            handling.done();
            promise.deliver(std::move(delivered));
          },
          [promise, result, handling](caf::error& error) mutable {
            result.set_outcome(messages::FAILED);
            result.set_reason(messages::DELIVERY_FAILED);
            result.set_detail("delivery actor failed: " + to_string(error));
            handling.done();
            promise.deliver(std::move(result));
          });
  return promise;
}

/// Sends a received message's non-delivery notice and replies with its delivery result.
caf::response_promise send_delivery_failure_notice(caf::stateful_actor<notifier_state>* self,
                                                   const context_ptr& context, const caf::actor& delivery,
                                                   const messages::delivery_failure_notice_request& request,
                                                   const pending_handling& handling) {
  auto promise = self->make_response_promise();
  const std::string job_id = request.job().job_id();
  auto notice = compose::build_delivery_failure_notice(*context->config, request, context->clock(), self->state.rng);
  if (notice.message().empty()) {
    messages::destination_result not_sent;
    not_sent.set_job_id(job_id + "-bounce");
    not_sent.set_address(request.recipient());
    not_sent.set_outcome(messages::FAILED);
    not_sent.set_reason(notice.reason() == messages::REASON_NONE ? messages::NO_NOTICE_TARGET : notice.reason());
    not_sent.set_detail(notice.detail().empty() ? "the request names no recipient or no failed destination"
                                                : notice.detail());
    handling.counters->count_failure(messages::reason_code_Name(not_sent.reason()));
    log::logger()->error("job {}: cannot build the non-delivery notice: {}", job_id, not_sent.detail());
    handling.done();
    promise.deliver(std::move(not_sent));
    return promise;
  }

  self->request(delivery, caf::infinite, std::move(notice))
      .then(
          [promise, handling](messages::destination_result& result) mutable {
            if (result.reason() != messages::REASON_NONE)
              handling.counters->count_failure(messages::reason_code_Name(result.reason()));
            handling.done();
            promise.deliver(std::move(result));
          },
          [promise, handling, job_id, recipient = request.recipient()](caf::error& error) mutable {
            handling.counters->count_failure("DELIVERY_FAILED");
            messages::destination_result failed;
            failed.set_job_id(job_id + "-bounce");
            failed.set_address(recipient);
            failed.set_outcome(messages::FAILED);
            failed.set_reason(messages::DELIVERY_FAILED);
            failed.set_detail("delivery actor failed: " + to_string(error));
            handling.done();
            promise.deliver(std::move(failed));
          });
  return promise;
}

caf::behavior notifier(caf::stateful_actor<notifier_state>* self, context_ptr context, caf::actor delivery) {
  stats::actor_stats* counters = &context->stats->actor("notification");
  return {
      [self, context, delivery, counters](messages::device_certificate_notice_request& request) {
        return notify_administrator(self, context, delivery, request.job_id(), begin_pending(self, *counters));
      },
      [self, context, delivery, counters](messages::certificate_notice_request& request) -> caf::response_promise {
        const auto handling = begin_pending(self, *counters);
        auto promise = self->make_response_promise();

        const std::vector<messages::destination_result> failed(request.failed().begin(), request.failed().end());
        auto notice = compose::build_certificate_notice(*context->config, request.job(), failed, context->clock(),
                                                        self->state.rng, request.original());
        if (notice.message().empty()) {
          messages::destination_result not_sent;
          not_sent.set_job_id(notice.job_id());
          not_sent.set_outcome(messages::FAILED);
          not_sent.set_reason(notice.reason() == messages::REASON_NONE ? messages::NO_NOTICE_TARGET : notice.reason());
          not_sent.set_detail(notice.detail());
          counters->count_failure(messages::reason_code_Name(not_sent.reason()));
          log::logger()->warn("job {}: no certificate notice sent ({}): the job names no originator or end receiver",
                              request.job().job_id(), messages::reason_code_Name(not_sent.reason()));
          handling.done();
          promise.deliver(std::move(not_sent));
          return promise;
        }

        context->stats->count_crypto_text(notice.algorithms());

        const std::string job_id = request.job().job_id();
        self->request(delivery, caf::infinite, std::move(notice))
            .then(
                [promise, counters, handling, job_id](messages::destination_result& result) mutable {
                  const bool sent = result.reason() == messages::REASON_NONE;
                  if (!sent)
                    counters->count_failure(messages::reason_code_Name(result.reason()));
                  log::logger()->info("job {}: certificate notice to {} {}", job_id, result.address(),
                                      sent ? "sent" : "failed");
                  handling.done();
                  promise.deliver(std::move(result));
                },
                [promise, counters, handling, job_id](caf::error& error) mutable {
                  counters->count_failure("DELIVERY_FAILED");
                  messages::destination_result failed;
                  failed.set_job_id(job_id + "-notice");
                  failed.set_outcome(messages::FAILED);
                  failed.set_reason(messages::DELIVERY_FAILED);
                  failed.set_detail("delivery actor failed: " + to_string(error));
                  handling.done();
                  promise.deliver(std::move(failed));
                });
        return promise;
      },
      [self, context, delivery, counters](messages::delivery_failure_notice_request& request) {
        return send_delivery_failure_notice(self, context, delivery, request, begin_pending(self, *counters));
      },
  };
}

} // namespace

caf::actor spawn_notifier(caf::actor_system& system, context_ptr context, caf::actor delivery) {
  return system.spawn(notifier, std::move(context), std::move(delivery));
}

} // namespace router::actors
