#include "runtime/stats/prometheus.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace router::stats {

namespace {

constexpr const char* received_metric = "router_actor_messages_received_total";
constexpr const char* handled_metric = "router_actor_messages_handled_total";
constexpr const char* failures_metric = "router_actor_failures_total";
constexpr const char* mailbox_metric = "router_actor_mailbox_depth";
constexpr const char* mailbox_peak_metric = "router_actor_mailbox_depth_peak";
constexpr const char* latency_metric = "router_actor_handling_duration_seconds";
constexpr const char* crypto_metric = "router_crypto_operations_total";
constexpr const char* jobs_metric = "router_jobs_total";
constexpr const char* destinations_metric = "router_destinations_total";
constexpr const char* queue_metric = "router_delivery_queue_depth";
constexpr const char* queue_peak_metric = "router_delivery_queue_depth_peak";
constexpr const char* retries_metric = "router_delivery_retries_total";

/// Builds the exposition text one metric family at a time.
class exposition_writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n";
    text_ += std::string("# TYPE ") + name + " " + type + "\n";
  }

  void line(const std::string& name, const std::string& labels, uint64_t value) {
    text_ += name + labels + " " + std::to_string(value) + "\n";
  }

  void line(const std::string& name, const std::string& labels, double value) {
    char number[40];
    std::snprintf(number, sizeof number, "%.9g", value);
    text_ += name + labels + " " + number + "\n";
  }

  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

std::string label(const char* name, const std::string& value) {
  return std::string(name) + "=\"" + escape_label_value(value) + "\"";
}

std::string labels(const std::string& first) {
  return "{" + first + "}";
}

std::string labels(const std::string& first, const std::string& second) {
  return "{" + first + "," + second + "}";
}

std::string bound_text(double bound) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", bound);
  return text;
}

/// Writes one gauge or counter per actor.
template <class Value>
void per_actor(exposition_writer& out, const snapshot& figures, const char* name, const char* type, const char* help,
               Value value_of) {
  out.family(name, type, help);
  for (const auto& [actor, figure] : figures.actors)
    out.line(name, labels(label("actor", actor)), static_cast<uint64_t>(value_of(figure)));
}

void write_latency(exposition_writer& out, const snapshot& figures) {
  out.family(latency_metric, "histogram", "Time from the start of a handler to its reply, in seconds.");
  const std::string bucket_name = std::string(latency_metric) + "_bucket";
  for (const auto& [actor, figure] : figures.actors) {
    const std::string actor_label = label("actor", actor);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < latency_bucket_count; ++i) {
      cumulative += figure.latency.buckets[i];
      const std::string bound = i < latency_bounds.size() ? bound_text(latency_bounds[i]) : "+Inf";
      out.line(bucket_name, labels(actor_label, label("le", bound)), cumulative);
    }
    out.line(std::string(latency_metric) + "_sum", labels(actor_label), figure.latency.sum_seconds);
    out.line(std::string(latency_metric) + "_count", labels(actor_label), figure.latency.count);
  }
}

void write_router_counters(exposition_writer& out, const snapshot& figures) {
  out.family(crypto_metric, "counter", "Signatures and encryptions made, by algorithm.");
  for (const auto& [operation, algorithms] : figures.crypto_operations) {
    for (const auto& [algorithm, count] : algorithms)
      out.line(crypto_metric, labels(label("operation", operation), label("algorithm", algorithm)), count);
  }

  out.family(jobs_metric, "counter", "Finished jobs: sent (every destination), partly_sent or not_sent.");
  for (const auto& [outcome, count] : figures.jobs_by_outcome)
    out.line(jobs_metric, labels(label("outcome", outcome)), count);

  out.family(destinations_metric, "counter", "Finished destinations by outcome.");
  for (const auto& [outcome, count] : figures.destinations_by_outcome)
    out.line(destinations_metric, labels(label("outcome", outcome)), count);

  out.family(queue_metric, "gauge", "Built messages waiting for earlier destinations of their job.");
  out.line(queue_metric, "", figures.delivery_queue_depth);
  out.family(queue_peak_metric, "gauge", "Largest delivery queue depth since the router started.");
  out.line(queue_peak_metric, "", figures.delivery_queue_depth_peak);
  out.family(retries_metric, "counter", "Delivery attempts after a temporary failure.");
  out.line(retries_metric, "", figures.delivery_retries);
}

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

bool is_name_char(char c) {
  return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

/// Reads one sample line; `number` names the line in errors.
class line_reader {
 public:
  line_reader(const std::string& line, size_t number) : line_(line), number_(number) {}

  sample read() {
    sample result;
    result.name = read_name(true);
    if (peek() == '{')
      read_labels(result.labels);
    if (peek() != ' ' && peek() != '\t')
      fail("expected a space before the value");
    skip_blanks();
    result.value = read_value();
    skip_blanks();
    if (position_ < line_.size())
      read_timestamp();
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw exposition_error("line " + std::to_string(number_) + ": " + problem);
  }

  char peek() const { return position_ < line_.size() ? line_[position_] : '\0'; }

  void skip_blanks() {
    while (peek() == ' ' || peek() == '\t')
      ++position_;
  }

  std::string read_name(bool colon_allowed) {
    const size_t start = position_;
    if (!is_name_start(peek()) || (!colon_allowed && peek() == ':'))
      fail("expected a metric or label name");
    while (is_name_char(peek()) && (colon_allowed || peek() != ':'))
      ++position_;
    return line_.substr(start, position_ - start);
  }

  void read_labels(std::map<std::string, std::string>& labels) {
    ++position_;  // '{'
    while (peek() != '}') {
      const std::string name = read_name(false);
      if (peek() != '=')
        fail("expected '=' after label " + name);
      ++position_;
      labels[name] = read_quoted();
      if (peek() == ',')
        ++position_;
      else if (peek() != '}')
        fail("expected ',' or '}' after label " + name);
    }
    ++position_;  // '}'
  }

  std::string read_quoted() {
    if (peek() != '"')
      fail("expected '\"' to open a label value");
    ++position_;
    std::string value;
    while (position_ < line_.size() && line_[position_] != '"') {
      char c = line_[position_++];
      if (c == '\\') {
        if (position_ >= line_.size())
          break;
        const char escaped = line_[position_++];
        if (escaped != '\\' && escaped != '"' && escaped != 'n')
          fail(std::string("invalid escape \\") + escaped + " in a label value");
        c = escaped == 'n' ? '\n' : escaped;
      }
      value += c;
    }
    if (position_ >= line_.size())
      fail("unterminated label value");
    ++position_;  // closing quote
    return value;
  }

  double read_value() {
    const size_t start = position_;
    while (position_ < line_.size() && line_[position_] != ' ' && line_[position_] != '\t')
      ++position_;
    const std::string text = line_.substr(start, position_ - start);
    if (text == "+Inf")
      return HUGE_VAL;
    if (text == "-Inf")
      return -HUGE_VAL;
    if (text == "NaN")
      return NAN;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || std::isnan(value) || std::isinf(value))
      fail("invalid sample value '" + text + "'");
    return value;
  }

  void read_timestamp() {
    const size_t start = position_;
    if (peek() == '-')
      ++position_;
    while (std::isdigit(static_cast<unsigned char>(peek())))
      ++position_;
    if (position_ == start || position_ != line_.size())
      fail("unexpected text after the value");
  }

  const std::string& line_;
  size_t number_;
  size_t position_ = 0;
};

uint64_t whole(double value) {
  return value <= 0 ? 0 : static_cast<uint64_t>(std::llround(value));
}

/// Returns the bucket index for an `le` label, or latency_bucket_count when it
/// names a bound this build does not use.
size_t bucket_for_bound(const std::string& text) {
  if (text == "+Inf")
    return latency_bounds.size();
  char* end = nullptr;
  const double bound = std::strtod(text.c_str(), &end);
  for (size_t i = 0; i < latency_bounds.size(); ++i) {
    if (std::fabs(latency_bounds[i] - bound) <= latency_bounds[i] * 1e-9)
      return i;
  }
  return latency_bucket_count;
}

} // namespace

std::string escape_label_value(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '"')
      escaped += "\\\"";
    else if (c == '\n')
      escaped += "\\n";
    else
      escaped += c;
  }
  return escaped;
}

std::string format_exposition(const snapshot& figures) {
  exposition_writer out;
  per_actor(out, figures, received_metric, "counter", "Messages an actor started to handle.",
            [](const actor_figures& f) { return f.messages_received; });
  per_actor(out, figures, handled_metric, "counter", "Messages an actor finished handling, its reply included.",
            [](const actor_figures& f) { return f.messages_handled; });

  out.family(failures_metric, "counter", "Failures an actor reported, by reason code.");
  for (const auto& [actor, figure] : figures.actors) {
    for (const auto& [reason, count] : figure.failures_by_reason)
      out.line(failures_metric, labels(label("actor", actor), label("reason", reason)), count);
  }

  per_actor(out, figures, mailbox_metric, "gauge", "Messages waiting in an actor's mailbox when last sampled.",
            [](const actor_figures& f) { return f.mailbox_depth; });
  per_actor(out, figures, mailbox_peak_metric, "gauge", "Largest sampled mailbox depth since the router started.",
            [](const actor_figures& f) { return f.mailbox_depth_peak; });
  write_latency(out, figures);
  write_router_counters(out, figures);
  return out.take();
}

std::vector<sample> parse_exposition(const std::string& text) {
  std::vector<sample> samples;
  size_t start = 0;
  size_t number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;

    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    samples.push_back(line_reader(line.substr(first), number).read());
  }
  return samples;
}

snapshot snapshot_from_samples(const std::vector<sample>& samples) {
  snapshot figures;
  std::map<std::string, std::array<uint64_t, latency_bucket_count>> cumulative;
  const std::string bucket_name = std::string(latency_metric) + "_bucket";

  for (const auto& item : samples) {
    const auto label_of = [&item](const char* name) {
      const auto found = item.labels.find(name);
      return found == item.labels.end() ? std::string() : found->second;
    };
    const std::string actor = label_of("actor");
    if (item.name == received_metric)
      figures.actors[actor].messages_received = whole(item.value);
    else if (item.name == handled_metric)
      figures.actors[actor].messages_handled = whole(item.value);
    else if (item.name == failures_metric)
      figures.actors[actor].failures_by_reason[label_of("reason")] = whole(item.value);
    else if (item.name == mailbox_metric)
      figures.actors[actor].mailbox_depth = whole(item.value);
    else if (item.name == mailbox_peak_metric)
      figures.actors[actor].mailbox_depth_peak = whole(item.value);
    else if (item.name == bucket_name) {
      const size_t index = bucket_for_bound(label_of("le"));
      if (index < latency_bucket_count)
        cumulative[actor][index] = whole(item.value);
    } else if (item.name == std::string(latency_metric) + "_sum")
      figures.actors[actor].latency.sum_seconds = item.value;
    else if (item.name == std::string(latency_metric) + "_count")
      figures.actors[actor].latency.count = whole(item.value);
    else if (item.name == crypto_metric)
      figures.crypto_operations[label_of("operation")][label_of("algorithm")] = whole(item.value);
    else if (item.name == jobs_metric)
      figures.jobs_by_outcome[label_of("outcome")] = whole(item.value);
    else if (item.name == destinations_metric)
      figures.destinations_by_outcome[label_of("outcome")] = whole(item.value);
    else if (item.name == queue_metric)
      figures.delivery_queue_depth = whole(item.value);
    else if (item.name == queue_peak_metric)
      figures.delivery_queue_depth_peak = whole(item.value);
    else if (item.name == retries_metric)
      figures.delivery_retries = whole(item.value);
  }

  // Bucket samples are cumulative; the snapshot keeps a count per bucket.
  for (const auto& [actor, counts] : cumulative) {
    auto& buckets = figures.actors[actor].latency.buckets;
    uint64_t below = 0;
    for (size_t i = 0; i < latency_bucket_count; ++i) {
      buckets[i] = counts[i] >= below ? counts[i] - below : 0;
      below = std::max(below, counts[i]);
    }
  }
  return figures;
}

} // namespace router::stats
