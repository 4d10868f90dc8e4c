// Per-actor statistics: messages handled and failures by reason.
//
// One registry per running router, shared by its actors. Updates take a short
// mutex; the figures are read as a consistent snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace router::stats {

struct actor_figures {
  uint64_t messages_handled = 0;
  std::map<std::string, uint64_t> failures_by_reason;
};

/// Figures of every actor by actor name, as at one instant.
using snapshot = std::map<std::string, actor_figures>;

class registry {
 public:
  /// Counts one handled message for an actor.
  void count_handled(const std::string& actor);

  /// Counts one failure with its reason code name for an actor.
  void count_failure(const std::string& actor, const std::string& reason);

  snapshot take_snapshot() const;

 private:
  mutable std::mutex mutex_;
  snapshot figures_;
};

/// Formats a snapshot as a table: one line per actor, then one per failure reason.
std::string format_table(const snapshot& figures);

} // namespace router::stats
