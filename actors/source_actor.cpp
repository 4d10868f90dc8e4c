// Source actor: one per source function. Plans each job with the send policy,
// sends every destination to the crypto pool and then to delivery, and
// replies to the submitter with the job's results once all destinations are done.
#include "actors/actors.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/log/log.hpp"
#include "runtime/policy/policy.hpp"

#include <botan/auto_rng.h>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <cctype>
#include <memory>

namespace router::actors {

namespace {

/// A job whose destinations are still on their way.
struct pending_job {
  messages::job_request job;
  messages::job_plan plan;
  messages::job_result result;
  size_t remaining = 0;
  caf::response_promise promise;
  stats::actor_stats::clock::time_point started;
};

using pending_ptr = std::shared_ptr<pending_job>;

struct source_state {
  Botan::AutoSeeded_RNG rng;
};

bool is_certificate_failure(messages::reason_code reason) {
  return reason == messages::NO_CERTIFICATE || reason == messages::CERTIFICATE_EXPIRED ||
         reason == messages::CERTIFICATE_NOT_YET_VALID || reason == messages::CERTIFICATE_UNREADABLE ||
         reason == messages::CERTIFICATE_UNTRUSTED || reason == messages::CERTIFICATE_REVOKED ||
         reason == messages::CERTIFICATE_WRONG_KEY_USAGE || reason == messages::CERTIFICATE_ADDRESS_MISMATCH;
}

/// Returns the failed destinations whose plan requests a notice on certificate failure.
std::vector<messages::destination_result> notice_worthy(const pending_job& pending) {
  std::vector<messages::destination_result> failed;
  for (const auto& result : pending.result.destinations()) {
    const auto& plan = pending.plan.destinations(static_cast<int>(result.index()));
    if (plan.notify_on_certificate_failure() && is_certificate_failure(result.reason()))
      failed.push_back(result);
  }
  return failed;
}

/// Returns the lower-case outcome name used as a metric label, e.g. "sent_plain".
std::string outcome_label(messages::outcome outcome) {
  std::string name = messages::outcome_Name(outcome);
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

/// Returns "sent" when every destination was sent, "not_sent" when none was,
/// else "partly_sent".
std::string job_outcome(const messages::job_result& result) {
  size_t sent = 0;
  for (const auto& destination : result.destinations()) {
    const auto outcome = destination.outcome();
    if (outcome == messages::SENT_ENCRYPTED_SIGNED || outcome == messages::SENT_ENCRYPTED ||
        outcome == messages::SENT_SIGNED || outcome == messages::SENT_PLAIN)
      ++sent;
  }
  if (sent == static_cast<size_t>(result.destinations_size()))
    return "sent";
  return sent == 0 ? "not_sent" : "partly_sent";
}

void log_result(const std::string& actor_name, const messages::destination_result& result) {
  const auto outcome = messages::outcome_Name(result.outcome());
  const std::string& destination = result.address().empty() ? result.destination_id() : result.address();
  if (result.reason() == messages::REASON_NONE) {
    log::logger()->info("{}: job {} destination {} ({}): {}", actor_name, result.job_id(), result.index(), destination,
                        outcome);
    return;
  }
  // A deferred destination is not lost: the job's source may try it again.
  const bool deferred = result.reason() == messages::DELIVERY_DEFERRED;
  log::logger()->warn("{}: job {} destination {} ({}): {}: {}: {}; {}", actor_name, result.job_id(), result.index(),
                      destination, outcome, messages::reason_code_Name(result.reason()), result.detail(),
                      deferred ? "not sent yet" : "not sent");
}

class source_behavior {
 public:
  source_behavior(caf::stateful_actor<source_state>* self, context_ptr context, std::string name,
                  caf::actor crypto_pool, caf::actor delivery, caf::actor notifier)
      : self_(self),
        context_(std::move(context)),
        name_(std::move(name)),
        crypto_pool_(std::move(crypto_pool)),
        delivery_(std::move(delivery)),
        notifier_(std::move(notifier)),
        counters_(context_->stats->actor(name_)) {}

  caf::response_promise handle(messages::job_request& job) {
    auto pending = std::make_shared<pending_job>();
    pending->started = begin_handling(self_, counters_);
    pending->promise = self_->make_response_promise();
    pending->plan = policy::plan_job(job, context_->config->settings, context_->config->certificate_index,
                                     context_->clock());
    pending->job = std::move(job);
    pending->result.set_job_id(pending->job.job_id());
    pending->remaining = static_cast<size_t>(pending->plan.destinations_size());
    for (const auto& plan : pending->plan.destinations()) {
      auto* slot = pending->result.add_destinations();
      slot->set_index(plan.index());
    }

    if (pending->remaining == 0) {
      reply(pending);
      return pending->promise;
    }
    for (const auto& plan : pending->plan.destinations())
      dispatch(pending, plan);
    return pending->promise;
  }

 private:
  /// Sends a planned destination to the crypto pool, or straight to delivery
  /// when the plan already failed it, so delivery still receives every index in order.
  void dispatch(const pending_ptr& pending, const messages::destination_plan& plan) {
    if (plan.action() != messages::SEND) {
      auto built = compose::build_for_destination(*context_->config, pending->job, plan, context_->clock(),
                                                  self_->state.rng);
      forward_to_delivery(pending, std::move(built));
      return;
    }

    messages::build_request request;
    *request.mutable_job() = pending->job;
    *request.mutable_destination() = plan;
    self_->request(crypto_pool_, caf::infinite, std::move(request))
        .then([this, pending](messages::built_message& built) { forward_to_delivery(pending, std::move(built)); },
              [this, pending, plan](caf::error& error) {
                forward_to_delivery(pending, internal_failure(pending->job, plan, to_string(error)));
              });
  }

  messages::built_message internal_failure(const messages::job_request& job, const messages::destination_plan& plan,
                                           const std::string& what) {
    messages::built_message built;
    built.set_job_id(job.job_id());
    built.set_index(plan.index());
    built.set_destination_count(static_cast<uint32_t>(job.destinations_size()));
    built.set_destination_id(plan.destination_id());
    built.set_address(plan.address());
    built.set_planned_outcome(messages::FAILED);
    built.set_reason(messages::BUILD_FAILED);
    built.set_detail("crypto worker failed: " + what);
    return built;
  }

  void forward_to_delivery(const pending_ptr& pending, messages::built_message built) {
    const uint32_t index = built.index();
    self_->request(delivery_, caf::infinite, std::move(built))
        .then([this, pending](messages::destination_result& result) { record(pending, std::move(result)); },
              [this, pending, index](caf::error& error) {
                messages::destination_result result;
                result.set_job_id(pending->job.job_id());
                result.set_index(index);
                result.set_outcome(messages::FAILED);
                result.set_reason(messages::DELIVERY_FAILED);
                result.set_detail("delivery actor failed: " + to_string(error));
                record(pending, std::move(result));
              });
  }

  void record(const pending_ptr& pending, messages::destination_result result) {
    const auto& plan = pending->plan.destinations(static_cast<int>(result.index()));
    result.set_destination_id(plan.destination_id());
    result.set_address(plan.address());
    if (plan.encrypt()) {
      const auto found = context_->config->destination_certificates.find(plan.destination_id());
      if (found != context_->config->destination_certificates.end())
        result.set_certificate_fingerprint(certs::fingerprint_sha256(found->second));
    }
    if (result.reason() != messages::REASON_NONE)
      counters_.count_failure(messages::reason_code_Name(result.reason()));
    context_->stats->count_destination(outcome_label(result.outcome()));
    log_result(name_, result);

    *pending->result.mutable_destinations(static_cast<int>(result.index())) = std::move(result);
    if (--pending->remaining == 0)
      finish(pending);
  }

  /// Sends the notices a finished job calls for, then replies with its result.
  void finish(const pending_ptr& pending) {
    const bool device_failed = std::any_of(
        pending->result.destinations().begin(), pending->result.destinations().end(),
        [](const auto& result) { return result.reason() == messages::DEVICE_CERTIFICATE_UNUSABLE; });
    if (!device_failed) {
      notify_originator(pending);
      return;
    }

    messages::device_certificate_notice_request request;
    request.set_job_id(pending->job.job_id());
    self_->request(notifier_, caf::infinite, std::move(request))
        .then(
            [this, pending](messages::destination_result& notice) {
              pending->result.set_administrator_notified(notice.outcome() != messages::OUTCOME_UNSPECIFIED &&
                                                         notice.reason() == messages::REASON_NONE);
              notify_originator(pending);
            },
            [this, pending](caf::error&) { notify_originator(pending); });
  }

  /// Replies with the job's result and counts the job as handled.
  void reply(const pending_ptr& pending) {
    // Count before replying, so a caller that reads the figures after the reply finds this job counted.
    context_->stats->count_job(job_outcome(pending->result));
    end_handling(self_, counters_, pending->started);
    pending->promise.deliver(pending->result);
  }

  void notify_originator(const pending_ptr& pending) {
    auto failed = notice_worthy(*pending);
    if (failed.empty()) {
      reply(pending);
      return;
    }

    messages::certificate_notice_request request;
    if (!pending->job.received_message().empty())
      *request.mutable_original() = compose::original_message_of(pending->job.received_message());
    *request.mutable_job() = pending->job;
    request.mutable_job()->clear_attachments();
    request.mutable_job()->clear_body_text();
    request.mutable_job()->clear_received_message();
    for (auto& result : failed)
      *request.add_failed() = std::move(result);
    self_->request(notifier_, caf::infinite, std::move(request))
        .then(
            [this, pending](messages::destination_result& notice) {
              pending->result.set_notification_sent(notice.reason() == messages::REASON_NONE);
              reply(pending);
            },
            [this, pending](caf::error&) { reply(pending); });
  }

  caf::stateful_actor<source_state>* self_;
  context_ptr context_;
  std::string name_;
  caf::actor crypto_pool_;
  caf::actor delivery_;
  caf::actor notifier_;
  stats::actor_stats& counters_;
};

caf::behavior source_actor(caf::stateful_actor<source_state>* self, context_ptr context, std::string name,
                           caf::actor crypto_pool, caf::actor delivery, caf::actor notifier) {
  auto handler = std::make_shared<source_behavior>(self, std::move(context), std::move(name), std::move(crypto_pool),
                                                   std::move(delivery), std::move(notifier));
  return {
      [handler](messages::job_request& job) { return handler->handle(job); },
  };
}

} // namespace

caf::actor spawn_source(caf::actor_system& system, context_ptr context, std::string name, caf::actor crypto_pool,
                        caf::actor delivery, caf::actor notifier) {
  return system.spawn(source_actor, std::move(context), std::move(name), std::move(crypto_pool), std::move(delivery),
                      std::move(notifier));
}

} // namespace router::actors
