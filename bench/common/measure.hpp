// Measurement helpers shared by the load generator and the OpenSSL peer.
// They read CPU time and peak resident set size from getrusage, compute
// latency percentiles, parse sizes and lists, make documents, and print the
// run summary as text or as one JSON object.
//
// Limits: CPU time and peak RSS cover the whole process (and, when asked, its
// waited-for children), so setup work done before the first sample is outside
// the CPU figure but inside the RSS figure.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace router::bench {

using steady_clock = std::chrono::steady_clock;

/// CPU time used so far, in seconds: user plus system time of this process,
/// plus that of its waited-for child processes when `with_children` is set.
double cpu_seconds(bool with_children);

/// Peak resident set size of this process in KiB (ru_maxrss on Linux).
long peak_rss_kib();

/// Largest peak resident set size of any waited-for child process in KiB.
long child_peak_rss_kib();

/// Returns the p-th percentile (0..100) by the nearest-rank method; 0 for no samples.
double percentile(std::vector<double> samples, double p);

/// A command-line problem, which a benchmark's main prints with its usage text.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Parses the value of a numeric option: a number of 0 or more; throws
/// usage_error naming the option otherwise.
double parse_number(const std::string& option, const std::string& text);

/// Parses a document size: bytes, or a number with a k (KiB) or m (MiB) suffix.
/// Throws std::invalid_argument for anything else.
size_t parse_size(const std::string& text);

/// Splits a comma-separated option value; throws std::invalid_argument when
/// it has an empty item.
std::vector<std::string> split_list(const std::string& text);

/// Returns `size` bytes of fixed pseudo-random data, so every run and every
/// program gets the same incompressible document.
std::string make_document(size_t size);

/// Milliseconds between two steady-clock points.
double elapsed_ms(steady_clock::time_point from, steady_clock::time_point to);

/// Figures and outcome counts of one run.
struct run_summary {
  std::string tool;   // "router", "openssl-library" or "openssl-command"
  std::string label;  // free text naming the workload
  uint64_t jobs_submitted = 0;
  uint64_t messages_delivered = 0;
  std::map<std::string, uint64_t> jobs_by_outcome;
  std::map<std::string, uint64_t> destinations_by_outcome;
  double wall_seconds = 0;                // first submit to last completion
  std::vector<double> latencies_ms;       // one per job (router) or message (peers)
  double cpu_seconds = 0;                 // during the measured interval
  long peak_rss_kib = 0;
  long child_peak_rss_kib = 0;            // 0 unless child processes did the work
};

/// Prints the summary as aligned "name value" lines for a person.
void print_text(const run_summary& summary, std::ostream& out);

/// Prints the summary as one JSON object on one line, for scripts.
void print_json(const run_summary& summary, std::ostream& out);

} // namespace router::bench
