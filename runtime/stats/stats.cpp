#include "runtime/stats/stats.hpp"

#include <cstdio>

namespace router::stats {

void registry::count_handled(const std::string& actor) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++figures_[actor].messages_handled;
}

void registry::count_failure(const std::string& actor, const std::string& reason) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++figures_[actor].failures_by_reason[reason];
}

snapshot registry::take_snapshot() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return figures_;
}

std::string format_table(const snapshot& figures) {
  std::string table;
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %10s %10s\n", "actor", "handled", "failures");
  table += line;

  for (const auto& [actor, figure] : figures) {
    uint64_t failures = 0;
    for (const auto& entry : figure.failures_by_reason)
      failures += entry.second;
    std::snprintf(line, sizeof line, "%-28s %10llu %10llu\n", actor.c_str(),
                  static_cast<unsigned long long>(figure.messages_handled),
                  static_cast<unsigned long long>(failures));
    table += line;
    for (const auto& [reason, count] : figure.failures_by_reason) {
      std::snprintf(line, sizeof line, "  %-26s %10s %10llu\n", reason.c_str(), "",
                    static_cast<unsigned long long>(count));
      table += line;
    }
  }
  return table;
}

} // namespace router::stats
