// Helpers that let an actor's handlers feed its stats::actor_stats: a handler
// start with a mailbox sample, and a finished message with its handling time.
//
// The mailbox size comes from CAF 0.17's scheduled_actor::mailbox().size(),
// which CAF documents as an approximation and which only the actor itself may
// call. It counts every message waiting behind the one being handled,
// responses to the actor's own requests included.
#pragma once

#include "runtime/stats/stats.hpp"

#include <functional>

namespace router::actors {

/// Counts a handler start and returns its start time for end_handling().
template <class Actor>
stats::actor_stats::clock::time_point begin_handling(Actor* self, stats::actor_stats& counters) {
  counters.count_received(self->mailbox().size());
  return stats::actor_stats::clock::now();
}

/// Counts a finished message with its handling time and samples the mailbox again.
template <class Actor>
void end_handling(Actor* self, stats::actor_stats& counters, stats::actor_stats::clock::time_point started) {
  counters.count_handled(started);
  counters.sample_mailbox(self->mailbox().size());
}

/// A message whose reply goes out later, from a response handler: done()
/// counts it as handled with the time since it was received and samples the
/// mailbox again, so an idle actor shows 0. done() must run in the actor
/// itself, as a response handler does.
struct pending_handling {
  stats::actor_stats* counters = nullptr;
  stats::actor_stats::clock::time_point started;
  std::function<uint64_t()> mailbox_size;

  void done() const {
    counters->count_handled(started);
    counters->sample_mailbox(mailbox_size());
  }
};

/// Counts a handler start and returns the handle that counts its end.
template <class Actor>
pending_handling begin_pending(Actor* self, stats::actor_stats& counters) {
  return pending_handling{&counters, begin_handling(self, counters),
                          [self]() -> uint64_t { return self->mailbox().size(); }};
}

} // namespace router::actors
