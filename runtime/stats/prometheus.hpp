// The Prometheus text exposition format (version 0.0.4) of a stats snapshot,
// and a reader for that text, so `smime-router stats` can rebuild the
// snapshot of a running router from its /metrics response.
//
// Metric names (all counters end in _total, times are in seconds):
//   router_actor_messages_received_total{actor}
//   router_actor_messages_handled_total{actor}
//   router_actor_failures_total{actor,reason}
//   router_actor_mailbox_depth{actor}                       gauge
//   router_actor_mailbox_depth_peak{actor}                  gauge
//   router_actor_handling_duration_seconds{actor}           histogram
//   router_crypto_operations_total{operation,algorithm}
//   router_jobs_total{outcome}
//   router_destinations_total{outcome}
//   router_delivery_queue_depth, router_delivery_queue_depth_peak   gauges
//   router_delivery_retries_total
//
// The reader accepts the subset of the format that exporters write: one
// sample per line, optional labels, a value, and an optional timestamp. It
// skips comments and metrics it does not know.
#pragma once

#include "runtime/stats/stats.hpp"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace router::stats {

/// Content-Type of the exposition text.
constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Text that does not follow the exposition format; the message names the line.
class exposition_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One sample line: metric name, labels and value.
struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Formats a snapshot as exposition text, with # HELP and # TYPE per metric.
std::string format_exposition(const snapshot& figures);

/// Escapes a label value: backslash, double quote and line feed.
std::string escape_label_value(const std::string& value);

/// Parses exposition text into its samples; throws exposition_error.
std::vector<sample> parse_exposition(const std::string& text);

/// Rebuilds a snapshot from the samples of the metrics listed above.
snapshot snapshot_from_samples(const std::vector<sample>& samples);

} // namespace router::stats
