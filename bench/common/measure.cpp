#include "bench/common/measure.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <stdexcept>

namespace router::bench {

namespace {

double seconds_of(const timeval& value) {
  return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
}

rusage usage_of(int who) {
  rusage usage{};
  ::getrusage(who, &usage);
  return usage;
}

double messages_per_second(const run_summary& summary) {
  if (summary.wall_seconds <= 0)
    return 0;
  return static_cast<double>(summary.messages_delivered) / summary.wall_seconds;
}

double cpu_ms_per_message(const run_summary& summary) {
  if (summary.messages_delivered == 0)
    return 0;
  return summary.cpu_seconds * 1000 / static_cast<double>(summary.messages_delivered);
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

void print_json_counts(const std::map<std::string, uint64_t>& counts, std::ostream& out) {
  out << "{";
  const char* separator = "";
  for (const auto& [name, count] : counts) {
    out << separator << json_string(name) << ":" << count;
    separator = ",";
  }
  out << "}";
}

} // namespace

double cpu_seconds(bool with_children) {
  const rusage self = usage_of(RUSAGE_SELF);
  double total = seconds_of(self.ru_utime) + seconds_of(self.ru_stime);
  if (with_children) {
    const rusage children = usage_of(RUSAGE_CHILDREN);
    total += seconds_of(children.ru_utime) + seconds_of(children.ru_stime);
  }
  return total;
}

long peak_rss_kib() {
  return usage_of(RUSAGE_SELF).ru_maxrss;
}

long child_peak_rss_kib() {
  return usage_of(RUSAGE_CHILDREN).ru_maxrss;
}

double percentile(std::vector<double> samples, double p) {
  if (samples.empty())
    return 0;

  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(p / 100 * static_cast<double>(samples.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

double parse_number(const std::string& option, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 0)
    throw usage_error("invalid " + option + " '" + text + "': expected a number of 0 or more");
  return value;
}

size_t parse_size(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0)
    throw std::invalid_argument("invalid size '" + text + "': expected bytes or a number with k or m, e.g. 100k");

  const size_t number = std::stoul(text.substr(0, digits));
  const std::string suffix = text.substr(digits);
  if (suffix.empty())
    return number;
  if (suffix == "k" || suffix == "K")
    return number << 10;
  if (suffix == "m" || suffix == "M")
    return number << 20;
  throw std::invalid_argument("invalid size '" + text + "': the suffix must be k or m");
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      throw std::invalid_argument("invalid list '" + text + "': empty item");
    items.push_back(item);
    if (comma == std::string::npos)
      return items;
    start = comma + 1;
  }
}

std::string make_document(size_t size) {
  std::string data(size, '\0');
  // xorshift64: cheap, fixed, and incompressible enough to stand for a PDF or TIFF.
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (auto& byte : data) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    byte = static_cast<char>(state & 0xFF);
  }
  return data;
}

double elapsed_ms(steady_clock::time_point from, steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

void print_text(const run_summary& summary, std::ostream& out) {
  const auto line = [&out](const std::string& name, const auto& value) {
    out << std::left << std::setw(40) << name << value << "\n";
  };

  out << std::fixed << std::setprecision(2);
  line("tool", summary.tool);
  line("workload", summary.label);
  line("jobs submitted", summary.jobs_submitted);
  for (const auto& [outcome, count] : summary.jobs_by_outcome)
    line("jobs " + outcome, count);
  for (const auto& [outcome, count] : summary.destinations_by_outcome)
    line("destinations " + outcome, count);
  line("messages delivered", summary.messages_delivered);
  line("wall time s", summary.wall_seconds);
  line("messages per second", messages_per_second(summary));
  line("latency p50 ms", percentile(summary.latencies_ms, 50));
  line("latency p99 ms", percentile(summary.latencies_ms, 99));
  line("cpu ms per message", cpu_ms_per_message(summary));
  line("peak rss MiB", static_cast<double>(summary.peak_rss_kib) / 1024);
  if (summary.child_peak_rss_kib > 0)
    line("child peak rss MiB", static_cast<double>(summary.child_peak_rss_kib) / 1024);
}

void print_json(const run_summary& summary, std::ostream& out) {
  out << std::fixed << std::setprecision(3);
  out << "{\"tool\":" << json_string(summary.tool) << ",\"label\":" << json_string(summary.label)
      << ",\"jobs_submitted\":" << summary.jobs_submitted << ",\"jobs_by_outcome\":";
  print_json_counts(summary.jobs_by_outcome, out);
  out << ",\"destinations_by_outcome\":";
  print_json_counts(summary.destinations_by_outcome, out);
  out << ",\"messages_delivered\":" << summary.messages_delivered << ",\"wall_seconds\":" << summary.wall_seconds
      << ",\"messages_per_second\":" << messages_per_second(summary)
      << ",\"latency_p50_ms\":" << percentile(summary.latencies_ms, 50)
      << ",\"latency_p99_ms\":" << percentile(summary.latencies_ms, 99)
      << ",\"cpu_ms_per_message\":" << cpu_ms_per_message(summary)
      << ",\"peak_rss_kib\":" << summary.peak_rss_kib << ",\"child_peak_rss_kib\":" << summary.child_peak_rss_kib
      << "}\n";
}

} // namespace router::bench
