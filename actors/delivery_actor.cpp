// Delivery actor: delivers each job's messages in destination order.
//
// Messages of one job may arrive in any order from the crypto pool. Each waits
// until every destination before it has been delivered or has failed, so the
// sends of a job happen one by one in the order the destinations were given.
// It runs detached because delivery blocks on disk and network I/O. Several
// such actors may share the work behind an actor pool that sends every message
// of a job to the same actor, so fsync waits of different jobs overlap.
#include "actors/actors.hpp"

#include "runtime/log/log.hpp"

#include <caf/actor_pool.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

namespace router::actors {

namespace {

struct waiting_message {
  messages::built_message message;
  caf::response_promise promise;
  stats::actor_stats::clock::time_point received;
};

struct job_queue {
  uint32_t next_index = 0;
  std::map<uint32_t, waiting_message> waiting;
};

struct delivery_state {
  std::map<std::string, job_queue> jobs;
};


messages::destination_result result_for(const messages::built_message& message) {
  messages::destination_result result;
  result.set_job_id(message.job_id());
  result.set_index(message.index());
  result.set_destination_id(message.destination_id());
  result.set_address(message.address());
  result.set_outcome(message.planned_outcome());
  result.set_reason(message.reason());
  result.set_detail(message.detail());
  result.set_algorithms(message.algorithms());
  return result;
}

/// Removes a built message's file when its destination is done, delivered or not.
struct message_file_remover {
  std::string path;
  ~message_file_remover() {
    if (path.empty())
      return;
    std::error_code error;
    std::filesystem::remove(path, error);
    if (error)
      log::logger()->warn("delivery: cannot remove message file {}: {}", path, error.message());
  }
};

/// Returns the envelope for a built message, moving the message text into it.
delivery::envelope envelope_for(messages::built_message& message) {
  return delivery::envelope{message.job_id(),         message.index(),
                            message.envelope_from(),  {message.address()},
                            std::move(*message.mutable_message()), message.message_file()};
}

/// Delivers one built message with retries and returns its final result. The
/// message text moves into the envelope, so `message` is left without it.
messages::destination_result deliver_one(const router_context& context, messages::built_message& message) {
  auto result = result_for(message);
  const message_file_remover remover{message.message_file()};
  if (message.message().empty() && message.message_file().empty())
    return result;

  const delivery::envelope envelope = envelope_for(message);
  for (int attempt = 1;; ++attempt) {
    std::this_thread::sleep_for(context.retry.delay_before(attempt));
    try {
      const auto receipt = context.deliverer->deliver(envelope);
      result.set_outbox_file(receipt.outbox_file);
      result.set_smtp_reply(receipt.smtp_reply);
      log::logger()->info("delivery: job {} destination {} ({}): delivered to {}", message.job_id(), message.index(),
                          message.address(), context.deliverer->describe());
      return result;
    } catch (const delivery::delivery_error& e) {
      if (context.retry.should_retry(e, attempt)) {
        context.stats->count_delivery_retry();
        log::logger()->warn("delivery: job {} destination {} ({}): attempt {} failed: {}; retrying", message.job_id(),
                            message.index(), message.address(), attempt, e.what());
        continue;
      }
      // The source of the job decides what a deferred destination becomes:
      // reception keeps it in its spool and tries again later.
      log::logger()->log(e.temporary() ? spdlog::level::warn : spdlog::level::err,
                         "delivery: job {} destination {} ({}): delivery failed after {} attempt(s): {}; {}",
                         message.job_id(), message.index(), message.address(), attempt, e.what(),
                         e.temporary() ? "reporting it as deferred" : "giving up");
      result.set_outcome(messages::FAILED);
      result.set_reason(e.temporary() ? messages::DELIVERY_DEFERRED : messages::DELIVERY_FAILED);
      result.set_detail(e.what());
      return result;
    } catch (const std::exception& e) {
      // Anything else (a filesystem error, bad_alloc) is not retried, and must
      // not end the actor, because it keeps the promises of other destinations.
      log::logger()->error("delivery: job {} destination {} ({}): delivery failed: {}; giving up", message.job_id(),
                           message.index(), message.address(), e.what());
      result.set_outcome(messages::FAILED);
      result.set_reason(messages::DELIVERY_FAILED);
      result.set_detail(e.what());
      return result;
    }
  }
}

/// Delivers every message of a job that is next in line; returns how many.
/// The queue gauge and the mailbox sample (from `mailbox_size`) are updated
/// before each reply, so figures read after a reply are settled.
template <class MailboxSize>
uint64_t drain(const router_context& context, stats::actor_stats& counters, job_queue& queue,
               MailboxSize mailbox_size) {
  uint64_t delivered = 0;
  while (true) {
    const auto next = queue.waiting.find(queue.next_index);
    if (next == queue.waiting.end())
      return delivered;

    auto result = deliver_one(context, next->second.message);
    result.set_completed_unix(
        std::chrono::duration_cast<std::chrono::seconds>(context.clock().time_since_epoch()).count());
    // Destinations that failed before delivery are counted by the actor that failed them.
    if (result.reason() == messages::DELIVERY_FAILED || result.reason() == messages::DELIVERY_DEFERRED)
      counters.count_failure(messages::reason_code_Name(result.reason()));
    // Count before replying, so a caller that reads the figures after the reply finds this message counted.
    counters.count_handled(next->second.received);
    context.stats->change_delivery_queue_depth(-1);
    counters.sample_mailbox(mailbox_size());
    next->second.promise.deliver(std::move(result));
    queue.waiting.erase(next);
    ++queue.next_index;
    ++delivered;
  }
}

caf::behavior delivery_actor(caf::stateful_actor<delivery_state>* self, context_ptr context) {
  // Every delivery actor counts under one name.
  // NOTE: with several delivery actors the mailbox depth is the last sample of any one of them, not their sum.
  stats::actor_stats* counters = &context->stats->actor("delivery");
  return {
      [self, context, counters](messages::built_message& message) -> caf::response_promise {
        const auto received = begin_handling(self, *counters);
        auto promise = self->make_response_promise();
        const std::string job_id = message.job_id();
        const uint32_t index = message.index();
        const uint32_t count = message.destination_count();

        auto& queue = self->state.jobs[job_id];
        queue.waiting.emplace(index, waiting_message{std::move(message), promise, received});
        context->stats->change_delivery_queue_depth(1);
        drain(*context, *counters, queue, [self]() -> uint64_t { return self->mailbox().size(); });
        if (queue.next_index >= count)
          self->state.jobs.erase(job_id);
        counters->sample_mailbox(self->mailbox().size());
        return promise;
      },
  };
}

/// Returns an actor pool policy that sends each built_message to the worker
/// its job id hashes to, and any other message to the first worker.
caf::actor_pool::policy by_job_id() {
  return [](caf::actor_system&, caf::actor_pool::uplock& guard, const caf::actor_pool::actor_vec& workers,
            caf::mailbox_element_ptr& element, caf::execution_unit* host) {
    size_t index = 0;
    auto& content = element->content();
    if (content.match_elements<messages::built_message>())
      index = std::hash<std::string>{}(content.get_as<messages::built_message>(0).job_id()) % workers.size();
    caf::actor selected = workers[index];
    guard.unlock();
    selected->enqueue(std::move(element), host);
  };
}

} // namespace

caf::actor spawn_delivery(caf::actor_system& system, context_ptr context, size_t threads) {
  if (threads <= 1)
    return system.spawn<caf::detached>(delivery_actor, context);

  auto make_worker = [&system, context] { return system.spawn<caf::detached>(delivery_actor, context); };
  return caf::actor_pool::make(system.dummy_execution_unit(), threads, make_worker, by_job_id());
}

} // namespace router::actors
