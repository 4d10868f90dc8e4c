// `smime-router serve`: the router as a daemon until SIGINT or SIGTERM, with
// GET /metrics when the config sets metrics_listen, SMTP reception when it sets
// reception.listen, and an optional job folder that it polls for job files.
//
// A job file is a router.messages.job_request in protobuf text format named
// *.textproto. Writers should create it under another name and rename it, so
// the router never reads a half-written file. Attachments are given inline
// (`attachments { filename: "a.txt" content_type: "text/plain" data: "..." }`);
// there is no way to name a file on disk.
#include "runtime/cli/commands.hpp"

#include "runtime/api/service.hpp"
#include "runtime/cli/result_format.hpp"
#include "runtime/config/config.hpp"
#include "runtime/log/log.hpp"
#include "runtime/stats/http.hpp"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace router::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* serve_usage =
    "usage: smime-router serve --config FILE [--jobs DIR] [--poll-ms N]\n"
    "\n"
    "  --config FILE  router config (protobuf text format); metrics_listen turns on GET /metrics\n"
    "  --jobs DIR     poll DIR for job files (*.textproto, a job_request in text format); each\n"
    "                 moves to DIR/done when every destination was sent, else to DIR/failed,\n"
    "                 with NAME.result.json beside it\n"
    "  --poll-ms N    poll interval for --jobs in milliseconds, 50 to 60000 (default 1000)\n"
    "\n"
    "When the config has a reception block with listen set, the router also receives mail\n"
    "over SMTP on that address and prints \"smtp reception port N\" with the bound port.\n"
    "With metrics_listen set, it prints \"metrics http://HOST:PORT/metrics\".\n"
    "\n"
    "Runs until SIGINT or SIGTERM, then waits for jobs in flight and exits 0. Exits 2 for an\n"
    "invalid command line, 3 for an invalid config, and 4 when the metrics or SMTP reception\n"
    "address cannot be bound (for example a port in use) or the job folder cannot be used.\n";

constexpr size_t max_files_per_poll = 64;
constexpr size_t max_jobs_in_flight = 16;

/// Keeps the first error the protobuf text parser reports, with its position.
class first_parse_error : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (text.empty())
      text = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }

  std::string text;
};

/// Polls a job folder and submits what it finds.
class job_folder {
 public:
  job_folder(fs::path dir, api::service& router) : dir_(std::move(dir)), router_(router) {
    // A mistyped path must not become a new, silently empty job folder.
    if (!fs::is_directory(dir_))
      throw std::runtime_error("job folder " + dir_.string() + " does not exist or is not a folder; create it first");
    fs::create_directories(dir_ / "work");
    fs::create_directories(dir_ / "done");
    fs::create_directories(dir_ / "failed");
  }

  /// Submits up to max_files_per_poll new job files, oldest name first.
  void poll() {
    std::vector<fs::path> files;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir_, error)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file(error) && entry.path().extension() == ".textproto" && name[0] != '.')
        files.push_back(entry.path());
    }
    if (error)
      log::logger()->error("serve: cannot list job folder {}: {}", dir_.string(), error.message());
    std::sort(files.begin(), files.end());
    if (files.size() > max_files_per_poll)
      files.resize(max_files_per_poll);

    for (const auto& file : files) {
      if (in_flight_.load() >= max_jobs_in_flight)
        return;
      submit(file);
    }
  }

 private:
  void submit(const fs::path& file) {
    // Claim the file first, so a second poll cannot submit it again.
    const fs::path claimed = dir_ / "work" / file.filename();
    std::error_code error;
    fs::rename(file, claimed, error);
    if (error) {
      log::logger()->error("serve: cannot move job file {} to {}: {}", file.string(), claimed.string(),
                           error.message());
      return;
    }

    messages::job_request job;
    std::ifstream in(claimed, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    first_parse_error errors;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (!in || !parser.ParseFromString(text.str(), &job)) {
      const std::string reason = !in ? "cannot read the file"
                                     : "not a job_request in protobuf text format: " + errors.text +
                                           "; see the job file example in the README";
      finish(claimed, false,
             "{\"file\":" + json_string(file.filename().string()) + ",\"error\":" + json_string(reason) + "}");
      return;
    }

    ++in_flight_;
    try {
      router_.submit_async(job, [this, claimed](messages::job_result result) {
        // A job that failed inside the router comes back without destinations.
        const bool sent = result.destinations_size() > 0 && all_sent(result);
        finish(claimed, sent, result_json(claimed, result));
        --in_flight_;
      });
    } catch (const std::exception& e) {
      --in_flight_;
      finish(claimed, false, "{\"file\":" + json_string(file.filename().string()) +
                                 ",\"error\":" + json_string(e.what()) + "}");
      return;
    }
    log::logger()->info("serve: job file {} submitted", file.filename().string());
  }

  static std::string result_json(const fs::path& file, const messages::job_result& result) {
    std::string json = "{\"file\":" + json_string(file.filename().string()) +
                       ",\"job_id\":" + json_string(result.job_id()) + ",\"destinations\":[";
    for (int i = 0; i < result.destinations_size(); ++i)
      json += (i == 0 ? "" : ",") + format_result_json(result.destinations(i));
    json += "],\"notices\":[";
    const auto notices = format_notice_json(result);
    for (size_t i = 0; i < notices.size(); ++i)
      json += (i == 0 ? "" : ",") + notices[i];
    return json + "]}";
  }

  /// Moves a claimed job file to done or failed and writes NAME.result.json beside it.
  void finish(const fs::path& claimed, bool sent, const std::string& json) {
    const fs::path target_dir = dir_ / (sent ? "done" : "failed");
    const std::string stem = claimed.stem().string();
    std::error_code error;
    {
      std::ofstream out(target_dir / (stem + ".result.json"), std::ios::binary | std::ios::trunc);
      out << json << "\n";
      if (!out)
        log::logger()->error("serve: cannot write {}", (target_dir / (stem + ".result.json")).string());
    }
    fs::rename(claimed, target_dir / claimed.filename(), error);
    if (error)
      log::logger()->error("serve: cannot move job file {} to {}: {}", claimed.string(), target_dir.string(),
                           error.message());
    if (sent)
      log::logger()->info("serve: job file {} done", claimed.filename().string());
    else
      log::logger()->warn("serve: job file {} failed; see {}", claimed.filename().string(),
                          (target_dir / (stem + ".result.json")).string());
  }

  fs::path dir_;
  api::service& router_;
  std::atomic<size_t> in_flight_{0};
};

/// Waits up to `timeout` for SIGINT or SIGTERM, which the caller has blocked.
/// Returns the signal number, or 0 when the time ran out.
int wait_for_signal(const sigset_t& signals, std::chrono::milliseconds timeout) {
  timespec wait{};
  wait.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  wait.tv_nsec = static_cast<long>((timeout.count() % 1000) * 1000000);
  const int received = ::sigtimedwait(&signals, nullptr, &wait);
  return received > 0 ? received : 0;
}

} // namespace

int run_serve(const arguments& given) {
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << serve_usage;
    return exit_ok;
  }

  std::string config_file;
  std::string jobs_dir;
  std::chrono::milliseconds poll_interval{1000};
  try {
    config_file = take_option(args, "--config");
    jobs_dir = take_option(args, "--jobs");
    const std::string poll = take_option(args, "--poll-ms");
    if (config_file.empty())
      throw std::invalid_argument("missing --config FILE");
    if (!args.empty())
      throw std::invalid_argument("unexpected argument '" + args.front() + "'");
    if (!poll.empty())
      poll_interval = std::chrono::milliseconds(parse_number(poll, "--poll-ms", 50, 60000));
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router serve: " << e.what() << "\n\n" << serve_usage;
    return exit_usage;
  }

  config::loaded_config loaded;
  try {
    loaded = config::load_config(config_file);
  } catch (const config::config_error& e) {
    std::cerr << "smime-router serve: invalid config: " << e.what() << "\n";
    return exit_config_invalid;
  }

  // Blocked before any router thread starts, so every thread inherits the mask
  // and the signals wait for sigtimedwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string problem;
  const auto metrics_endpoint = stats::parse_loopback_endpoint(loaded.settings.metrics_listen(), problem);
  std::unique_ptr<api::service> router;
  std::unique_ptr<job_folder> folder;
  try {
    router = api::service::start(std::move(loaded));
    if (!jobs_dir.empty())
      folder = std::make_unique<job_folder>(jobs_dir, *router);
  } catch (const std::exception& e) {
    std::cerr << "smime-router serve: cannot start: " << e.what() << "\n";
    return exit_internal;
  }

  log::logger()->info("serve: started with config {}{}", config_file,
                      jobs_dir.empty() ? std::string() : "; polling " + jobs_dir + " every " +
                                                             std::to_string(poll_interval.count()) + " ms");
  if (router->metrics_port() != 0) {
    // Printed so a caller that asked for port 0 learns the port.
    std::cout << "metrics http://" << metrics_endpoint->host << ":" << router->metrics_port() << "/metrics"
              << std::endl;
  }
  if (router->reception_port() != 0)
    std::cout << "smtp reception port " << router->reception_port() << std::endl;

  int signal_number = 0;
  while (signal_number == 0) {
    try {
      if (folder)
        folder->poll();
    } catch (const std::exception& e) {
      log::logger()->error("serve: cannot poll job folder {}: {}; trying again in {} ms", jobs_dir, e.what(),
                           poll_interval.count());
    }
    signal_number = wait_for_signal(signals, poll_interval);
  }

  log::logger()->info("serve: {} received; waiting for jobs in flight", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  router->stop();
  log::logger()->info("serve: stopped");
  return exit_ok;
}

} // namespace router::cli
