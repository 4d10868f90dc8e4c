#include "runtime/stats/stats.hpp"

#include <algorithm>
#include <cstdio>

namespace router::stats {

namespace {

/// Raises `peak` to `value` unless it is already at least as large.
template <class T>
void raise_peak(std::atomic<T>& peak, T value) {
  T seen = peak.load(std::memory_order_relaxed);
  while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

std::string format_seconds(double seconds) {
  char text[32];
  if (seconds < 1.0)
    std::snprintf(text, sizeof text, "%.1fms", seconds * 1000.0);
  else
    std::snprintf(text, sizeof text, "%.2fs", seconds);
  return text;
}

} // namespace

size_t latency_bucket(double seconds) {
  const auto found = std::lower_bound(latency_bounds.begin(), latency_bounds.end(), seconds);
  return static_cast<size_t>(found - latency_bounds.begin());
}

double latency_histogram::quantile(double q) const {
  if (count == 0)
    return 0;

  const double rank = q * static_cast<double>(count);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0 || static_cast<double>(below + buckets[i]) < rank) {
      below += buckets[i];
      continue;
    }
    if (i == latency_bounds.size())
      return latency_bounds.back();
    const double lower = i == 0 ? 0.0 : latency_bounds[i - 1];
    const double upper = latency_bounds[i];
    const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
    return lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0);
  }
  return latency_bounds.back();
}

void actor_stats::record_depth(uint64_t waiting) {
  mailbox_depth_.store(waiting, std::memory_order_relaxed);
  raise_peak(mailbox_peak_, waiting);
}

void actor_stats::count_received(uint64_t waiting) {
  received_.fetch_add(1, std::memory_order_relaxed);
  record_depth(waiting);
}

void actor_stats::count_handled(clock::time_point started) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started).count();
  const auto nanoseconds = static_cast<uint64_t>(std::max<int64_t>(elapsed, 0));
  buckets_[latency_bucket(static_cast<double>(nanoseconds) / 1e9)].fetch_add(1, std::memory_order_relaxed);
  latency_sum_nanoseconds_.fetch_add(nanoseconds, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
  handled_.fetch_add(1, std::memory_order_relaxed);
}

void actor_stats::count_handled() {
  handled_.fetch_add(1, std::memory_order_relaxed);
}

void actor_stats::sample_mailbox(uint64_t waiting) {
  record_depth(waiting);
}

void actor_stats::count_failure(const std::string& reason) {
  const std::lock_guard<std::mutex> lock(failures_mutex_);
  ++failures_[reason];
}

actor_figures actor_stats::figures() const {
  actor_figures figures;
  figures.messages_received = received_.load(std::memory_order_relaxed);
  figures.messages_handled = handled_.load(std::memory_order_relaxed);
  figures.mailbox_depth = mailbox_depth_.load(std::memory_order_relaxed);
  figures.mailbox_depth_peak = mailbox_peak_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < buckets_.size(); ++i)
    figures.latency.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  figures.latency.sum_seconds = static_cast<double>(latency_sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9;
  figures.latency.count = latency_count_.load(std::memory_order_relaxed);
  {
    const std::lock_guard<std::mutex> lock(failures_mutex_);
    figures.failures_by_reason = failures_;
  }
  return figures;
}

actor_stats& registry::actor(const std::string& name) {
  const std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = actors_[name];
  if (!slot)
    slot = std::make_unique<actor_stats>();
  return *slot;
}

void registry::count_handled(const std::string& actor_name) {
  actor(actor_name).count_handled();
}

void registry::count_failure(const std::string& actor_name, const std::string& reason) {
  actor(actor_name).count_failure(reason);
}

void registry::count_crypto(const std::string& operation, const std::string& algorithm) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++crypto_operations_[operation][algorithm];
}

void registry::count_crypto_text(const std::string& algorithms) {
  static const std::string separator = ", then ";
  static const std::string signed_with = "signed with ";
  static const std::string encrypted_with = "encrypted with ";

  size_t start = 0;
  while (start < algorithms.size()) {
    const size_t end = std::min(algorithms.find(separator, start), algorithms.size());
    const std::string part = algorithms.substr(start, end - start);
    if (part.rfind(signed_with, 0) == 0)
      count_crypto("sign", part.substr(signed_with.size()));
    else if (part.rfind(encrypted_with, 0) == 0)
      count_crypto("encrypt", part.substr(encrypted_with.size()));
    start = end + separator.size();
  }
}

void registry::count_job(const std::string& outcome) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++jobs_by_outcome_[outcome];
}

void registry::count_destination(const std::string& outcome) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++destinations_by_outcome_[outcome];
}

void registry::change_delivery_queue_depth(int64_t change) {
  const uint64_t depth =
      delivery_queue_depth_.fetch_add(static_cast<uint64_t>(change), std::memory_order_relaxed) +
      static_cast<uint64_t>(change);
  raise_peak(delivery_queue_peak_, depth);
}

void registry::count_delivery_retry() {
  delivery_retries_.fetch_add(1, std::memory_order_relaxed);
}

snapshot registry::take_snapshot() const {
  snapshot figures;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, counters] : actors_)
      figures.actors[name] = counters->figures();
    figures.crypto_operations = crypto_operations_;
    figures.jobs_by_outcome = jobs_by_outcome_;
    figures.destinations_by_outcome = destinations_by_outcome_;
  }
  figures.delivery_queue_depth = delivery_queue_depth_.load();
  figures.delivery_queue_depth_peak = delivery_queue_peak_.load();
  figures.delivery_retries = delivery_retries_.load();
  return figures;
}

std::string format_table(const snapshot& figures) {
  std::string table;
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %9s %9s %9s %13s %9s %9s\n", "actor", "received", "handled", "failures",
                "mailbox/peak", "p50", "p99");
  table += line;

  for (const auto& [actor, figure] : figures.actors) {
    uint64_t failures = 0;
    for (const auto& entry : figure.failures_by_reason)
      failures += entry.second;
    const std::string mailbox = std::to_string(figure.mailbox_depth) + "/" + std::to_string(figure.mailbox_depth_peak);
    const bool timed = figure.latency.count > 0;
    std::snprintf(line, sizeof line, "%-24s %9llu %9llu %9llu %13s %9s %9s\n", actor.c_str(),
                  static_cast<unsigned long long>(figure.messages_received),
                  static_cast<unsigned long long>(figure.messages_handled),
                  static_cast<unsigned long long>(failures), mailbox.c_str(),
                  timed ? format_seconds(figure.latency.quantile(0.5)).c_str() : "-",
                  timed ? format_seconds(figure.latency.quantile(0.99)).c_str() : "-");
    table += line;
    for (const auto& [reason, count] : figure.failures_by_reason) {
      std::snprintf(line, sizeof line, "  %-42s %9llu\n", reason.c_str(), static_cast<unsigned long long>(count));
      table += line;
    }
  }
  return table;
}

std::string format_summary(const snapshot& figures) {
  std::string text;
  char line[320];
  const auto add = [&](const std::string& label, uint64_t value) {
    std::snprintf(line, sizeof line, "%-56s %9llu\n", label.c_str(), static_cast<unsigned long long>(value));
    text += line;
  };

  for (const auto& [outcome, count] : figures.jobs_by_outcome)
    add("jobs " + outcome, count);
  for (const auto& [outcome, count] : figures.destinations_by_outcome)
    add("destinations " + outcome, count);
  for (const auto& [operation, algorithms] : figures.crypto_operations) {
    for (const auto& [algorithm, count] : algorithms)
      add(operation + " " + algorithm, count);
  }
  add("delivery queue depth", figures.delivery_queue_depth);
  add("delivery queue depth peak", figures.delivery_queue_depth_peak);
  add("delivery retries", figures.delivery_retries);
  return text;
}

} // namespace router::stats
