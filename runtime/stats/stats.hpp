// Per-actor statistics of one running router, and the router-wide counters an
// operator watches: crypto operations, jobs and destinations by outcome, the
// delivery queue and delivery retries.
//
// One registry per running router, shared by its actors. An actor looks up its
// actor_stats once and then updates atomics only, so the hot path takes no
// lock and allocates nothing. Failures, crypto operations and outcomes are
// keyed by name and take a short mutex, because they are few per message.
// A snapshot is read field by field, so counters of one actor may be a
// message apart from each other; each single value is exact.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace router::stats {

/// Upper bounds of the handling-latency histogram buckets, in seconds. A last
/// bucket without bound (+Inf) follows them.
constexpr std::array<double, 14> latency_bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
constexpr size_t latency_bucket_count = latency_bounds.size() + 1;

/// Handling latencies, as counts per bucket (not cumulative) and their sum.
struct latency_histogram {
  std::array<uint64_t, latency_bucket_count> buckets{};
  double sum_seconds = 0;
  uint64_t count = 0;

  /// Estimates the q-quantile (0 < q < 1) by linear interpolation inside its
  /// bucket. Returns the largest finite bound when the quantile falls into the
  /// +Inf bucket, and 0 when the histogram is empty.
  double quantile(double q) const;
};

/// Returns the index of the bucket that counts a latency of `seconds`.
size_t latency_bucket(double seconds);

/// Figures of one actor as at one instant.
struct actor_figures {
  uint64_t messages_received = 0;  // handlers started
  uint64_t messages_handled = 0;   // handlers finished, replies included
  std::map<std::string, uint64_t> failures_by_reason;
  uint64_t mailbox_depth = 0;       // messages waiting when last sampled
  uint64_t mailbox_depth_peak = 0;  // largest sample since the router started
  latency_histogram latency;
};

/// Figures of the whole router as at one instant.
struct snapshot {
  std::map<std::string, actor_figures> actors;  // by actor name
  /// Crypto operations by operation ("sign", "encrypt") and then algorithm.
  std::map<std::string, std::map<std::string, uint64_t>> crypto_operations;
  std::map<std::string, uint64_t> jobs_by_outcome;          // "sent", "partly_sent", "not_sent"
  std::map<std::string, uint64_t> destinations_by_outcome;  // lower-case outcome names
  uint64_t delivery_queue_depth = 0;       // messages waiting for earlier destinations of their job
  uint64_t delivery_queue_depth_peak = 0;
  uint64_t delivery_retries = 0;           // delivery attempts after the first
};

/// Live counters of one actor. The atomics may be updated from any thread.
class actor_stats {
 public:
  using clock = std::chrono::steady_clock;

  /// Counts a handler start and samples the mailbox: `waiting` messages are
  /// still queued behind the one being handled.
  void count_received(uint64_t waiting);

  /// Counts a finished message and its handling time since `started`.
  void count_handled(clock::time_point started);

  /// Counts a finished message without a measured handling time.
  void count_handled();

  /// Samples the mailbox after a handler ran, so an idle actor shows 0.
  void sample_mailbox(uint64_t waiting);

  /// Counts one failure with its reason code name.
  void count_failure(const std::string& reason);

  actor_figures figures() const;

 private:
  void record_depth(uint64_t waiting);

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> handled_{0};
  std::atomic<uint64_t> mailbox_depth_{0};
  std::atomic<uint64_t> mailbox_peak_{0};
  std::array<std::atomic<uint64_t>, latency_bucket_count> buckets_{};
  std::atomic<uint64_t> latency_sum_nanoseconds_{0};
  std::atomic<uint64_t> latency_count_{0};

  mutable std::mutex failures_mutex_;
  std::map<std::string, uint64_t> failures_;
};

class registry {
 public:
  /// Returns the counters of an actor, made on first use. The reference stays
  /// valid as long as the registry, so actors look it up once.
  actor_stats& actor(const std::string& name);

  /// Counts one handled message for an actor, without a handling time.
  void count_handled(const std::string& actor_name);

  /// Counts one failure with its reason code name for an actor.
  void count_failure(const std::string& actor_name, const std::string& reason);

  /// Counts one crypto operation ("sign" or "encrypt") with its algorithm.
  void count_crypto(const std::string& operation, const std::string& algorithm);

  /// Counts the operations named in a built message's algorithm text, e.g.
  /// "signed with RSA sha-256, then encrypted with AES-256-CBC and RSA PKCS#1 v1.5".
  void count_crypto_text(const std::string& algorithms);

  /// Counts a finished job by outcome: "sent", "partly_sent" or "not_sent".
  void count_job(const std::string& outcome);

  /// Counts a finished destination by its lower-case outcome name.
  void count_destination(const std::string& outcome);

  /// Changes the number of built messages waiting for earlier destinations of
  /// their job. Several delivery threads may call it at once.
  void change_delivery_queue_depth(int64_t change);

  void count_delivery_retry();

  snapshot take_snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<actor_stats>> actors_;
  std::map<std::string, std::map<std::string, uint64_t>> crypto_operations_;
  std::map<std::string, uint64_t> jobs_by_outcome_;
  std::map<std::string, uint64_t> destinations_by_outcome_;

  std::atomic<uint64_t> delivery_queue_depth_{0};
  std::atomic<uint64_t> delivery_queue_peak_{0};
  std::atomic<uint64_t> delivery_retries_{0};
};

/// Formats the per-actor figures as a table: one line per actor with handled
/// messages, failures, mailbox depth and p50/p99 latency, then one line per
/// failure reason.
std::string format_table(const snapshot& figures);

/// Formats the router-wide figures: jobs and destinations by outcome, crypto
/// operations by algorithm, the delivery queue and delivery retries.
std::string format_summary(const snapshot& figures);

} // namespace router::stats
