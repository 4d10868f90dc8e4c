// `smime-router stats`: fetches GET /metrics from a running router and prints
// the figures as tables, with p50 and p99 handling latency estimated from the
// histogram buckets (linear interpolation inside a bucket).
#include "runtime/cli/commands.hpp"

#include "runtime/config/config.hpp"
#include "runtime/stats/http.hpp"
#include "runtime/stats/prometheus.hpp"

#include <iostream>

namespace router::cli {

namespace {

constexpr const char* stats_usage =
    "usage: smime-router stats (--metrics URL | --config FILE) [--timeout-ms N]\n"
    "\n"
    "  --metrics URL    the router's metrics URL, e.g. http://127.0.0.1:9464/metrics\n"
    "  --config FILE    take the address from the config's metrics_listen instead\n"
    "  --timeout-ms N   connect and read timeout in milliseconds, 100 to 60000 (default 5000)\n"
    "\n"
    "exit 0 when printed, 1 when the router cannot be reached or its response is not metrics text\n";

} // namespace

int run_stats(const arguments& given) {
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << stats_usage;
    return exit_ok;
  }

  std::string url;
  std::string config_file;
  std::chrono::milliseconds timeout{5000};
  try {
    url = take_option(args, "--metrics");
    config_file = take_option(args, "--config");
    const std::string timeout_text = take_option(args, "--timeout-ms");
    if (url.empty() == config_file.empty())
      throw std::invalid_argument("give exactly one of --metrics URL and --config FILE");
    if (!args.empty())
      throw std::invalid_argument("unexpected argument '" + args.front() + "'");
    if (!timeout_text.empty())
      timeout = std::chrono::milliseconds(parse_number(timeout_text, "--timeout-ms", 100, 60000));
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router stats: " << e.what() << "\n\n" << stats_usage;
    return exit_usage;
  }

  if (!config_file.empty()) {
    std::string listen;
    try {
      listen = config::load_config(config_file).settings.metrics_listen();
    } catch (const config::config_error& e) {
      std::cerr << "smime-router stats: invalid config: " << e.what() << "\n";
      return exit_config_invalid;
    }
    std::string problem;
    const auto where = stats::parse_loopback_endpoint(listen, problem);
    if (listen.empty() || !where || where->port == 0) {
      std::cerr << "smime-router stats: " << config_file
                << ": field 'metrics_listen' must name a fixed port, e.g. \"127.0.0.1:9464\"; or pass --metrics URL\n";
      return exit_config_invalid;
    }
    url = "http://" + where->host + ":" + std::to_string(where->port) + "/metrics";
  }

  stats::snapshot figures;
  try {
    const auto response = stats::http_get(url, timeout);
    if (response.status != 200) {
      std::cerr << "smime-router stats: " << url << " returned HTTP " << response.status << "\n";
      return exit_not_all_sent;
    }
    figures = stats::snapshot_from_samples(stats::parse_exposition(response.body));
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router stats: " << e.what() << "\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "smime-router stats: " << e.what() << "\n";
    return exit_not_all_sent;
  }

  std::cout << stats::format_table(figures) << "\n" << stats::format_summary(figures);
  return exit_ok;
}

} // namespace router::cli
