// router_load: an end-to-end load generator for the router.
//
// Starts the router through the embedding API with the test PKI and a fixed
// clock (2026-06-01T00:00:00Z), delivering to a Maildir outbox in a temp
// folder. Jobs go in through service::submit_async, at a fixed rate or as fast
// as a window of jobs in flight allows. Jobs cycle through the given source
// functions, destination counts and document sizes. It stops submitting after
// --jobs jobs or --seconds seconds, whichever comes first, waits for the jobs
// in flight, and prints messages per second, job latency (submit to the job's
// last destination delivered), CPU time per message, peak RSS, and its own
// counts of jobs and destinations by outcome.
//
// Exit status: 0 when every job had every destination delivered, 1 when any
// was not, 2 for an invalid command line, 3 when the router cannot start.
//
// Limits: one process, so the figures include the generator's own work (job
// building, result bookkeeping, deleting delivered files). Latency is per
// job, because submit_async reports a job only once all its destinations are
// done; with more than one destination it is the time to the last one.
#include "bench/common/measure.hpp"
#include "runtime/api/service.hpp"
#include "runtime/log/log.hpp"

#include "tests/common/test_pki.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace {

using namespace router;
using bench::steady_clock;

constexpr const char* usage_text = R"(usage: router_load [options]
  --help               print this help and exit
  --jobs N             stop submitting after N jobs (default 100)
  --seconds T          stop submitting after T seconds (default 30)
  --rate R             submit R jobs per second; 0 submits as fast as the window allows (default 0)
  --in-flight M        at most M jobs in flight; when M are, submitting resumes at M/2
                       (default 4 per crypto worker)
  --functions LIST     source functions cycled per job, e.g. store,forwarding (default store)
  --destinations LIST  destination counts cycled per job, e.g. 1,3 (default 1)
  --to LIST            address-book ids of the test PKI cycled as destinations:
                       alice, bob, erin, fax, carol (expired), dave (no certificate) (default alice,bob)
  --sizes LIST         document sizes cycled per job: bytes or a k/m suffix, e.g. 4k,100k,1m (default 4k)
  --encrypt            standard_address jobs request encryption
  --no-sign            standard_address jobs request no signature
  --workers N          crypto workers; 0 is the router's default, two per core (default 0)
  --pki DIR            keep the test PKI in DIR, creating DIR and writing the PKI only when missing
                       (default: a fresh temp folder)
  --outbox-parent DIR  make the outbox folder in DIR (default: TMPDIR, else /tmp); on a tmpfs
                       such as /dev/shm the disk's flushes drop out of the figures
  --keep-outbox        keep the delivered messages and print the outbox folder
  --label TEXT         workload name printed with the figures
  --json               print the figures as one JSON object
)";

struct load_options {
  uint64_t jobs = 100;
  double seconds = 30;
  double rate = 0;
  size_t in_flight = 0;  // 0 means 4 per crypto worker
  std::vector<config::source_function> functions{config::STORE};
  std::vector<size_t> destination_counts{1};
  std::vector<std::string> destination_ids{"alice", "bob"};
  std::vector<size_t> sizes{4 << 10};
  bool request_encrypt = false;
  bool request_no_sign = false;
  size_t workers = 0;
  std::optional<std::filesystem::path> pki_dir;
  bool keep_outbox = false;
  std::optional<std::filesystem::path> outbox_parent;
  std::string label;
  bool json = false;
};

using bench::parse_number;
using bench::usage_error;

size_t parse_count(const std::string& option, const std::string& text) {
  const double value = parse_number(option, text);
  if (value != static_cast<double>(static_cast<size_t>(value)))
    throw usage_error("invalid " + option + " '" + text + "': expected a whole number");
  return static_cast<size_t>(value);
}

std::vector<config::source_function> parse_functions(const std::string& text) {
  std::vector<config::source_function> functions;
  for (const auto& name : bench::split_list(text)) {
    const auto function = config::parse_function_name(name);
    if (!function)
      throw usage_error("unknown source function '" + name + "': use e.g. store, forwarding, standard_address");
    functions.push_back(*function);
  }
  return functions;
}

/// The address-book ids of the test PKI.
const std::set<std::string> known_destination_ids{"alice", "bob", "erin", "fax", "carol", "dave"};

load_options parse_options(int argc, char** argv) {
  load_options options;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw usage_error(option + " needs a value");
      return argv[++i];
    };

    if (option == "--jobs") {
      options.jobs = parse_count(option, value());
    } else if (option == "--seconds") {
      options.seconds = parse_number(option, value());
    } else if (option == "--rate") {
      options.rate = parse_number(option, value());
    } else if (option == "--in-flight") {
      options.in_flight = parse_count(option, value());
      if (options.in_flight == 0)
        throw usage_error("--in-flight must be at least 1");
    } else if (option == "--functions") {
      options.functions = parse_functions(value());
    } else if (option == "--destinations") {
      options.destination_counts.clear();
      for (const auto& count : bench::split_list(value())) {
        options.destination_counts.push_back(parse_count(option, count));
        if (options.destination_counts.back() == 0)
          throw usage_error("--destinations counts must be at least 1");
      }
    } else if (option == "--to") {
      options.destination_ids = bench::split_list(value());
      for (const auto& id : options.destination_ids)
        if (known_destination_ids.count(id) == 0)
          throw usage_error("unknown destination id '" + id + "' in --to: use alice, bob, erin, fax, carol or dave");
    } else if (option == "--sizes") {
      options.sizes.clear();
      for (const auto& size : bench::split_list(value()))
        options.sizes.push_back(bench::parse_size(size));
    } else if (option == "--encrypt") {
      options.request_encrypt = true;
    } else if (option == "--no-sign") {
      options.request_no_sign = true;
    } else if (option == "--workers") {
      options.workers = parse_count(option, value());
    } else if (option == "--pki") {
      options.pki_dir = value();
    } else if (option == "--outbox-parent") {
      options.outbox_parent = value();
      std::error_code error;
      if (!std::filesystem::is_directory(*options.outbox_parent, error))
        throw usage_error("--outbox-parent '" + options.outbox_parent->string() +
                          "' is not an existing folder: give a folder that exists, e.g. /dev/shm");
    } else if (option == "--keep-outbox") {
      options.keep_outbox = true;
    } else if (option == "--label") {
      options.label = value();
    } else if (option == "--json") {
      options.json = true;
    } else {
      throw usage_error("unknown option '" + option + "'");
    }
  }
  return options;
}

std::string lower_case(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_sent(messages::outcome outcome) {
  return outcome == messages::SENT_ENCRYPTED_SIGNED || outcome == messages::SENT_ENCRYPTED ||
         outcome == messages::SENT_SIGNED || outcome == messages::SENT_PLAIN;
}

/// Counts, latencies and the in-flight window, shared with the router threads
/// that run the submit_async callbacks.
class load_state {
 public:
  load_state(size_t window, bool keep_outbox)
      : window_(window), resume_at_(window / 2), keep_outbox_(keep_outbox) {}

  /// Counts one more job in flight. With `window` jobs in flight it first
  /// blocks until half of them are done, so the submitting thread wakes once
  /// per half window rather than once per job.
  void enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (in_flight_ >= window_)
      changed_.wait(lock, [this] { return in_flight_ <= resume_at_; });
    ++in_flight_;
  }

  /// Blocks until no job is in flight.
  void wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return in_flight_ == 0; });
  }

  /// Records a finished job. A destination counts as delivered only when its
  /// outcome is a sent one and its outbox file exists.
  void record(const messages::job_result& result, size_t expected_destinations,
              steady_clock::time_point submitted) {
    const auto finished = steady_clock::now();

    size_t delivered = 0;
    std::vector<std::string> outcomes;
    for (const auto& destination : result.destinations()) {
      const bool file_found = !destination.outbox_file().empty() && std::filesystem::exists(destination.outbox_file());
      const bool sent = is_sent(destination.outcome()) && file_found;
      if (sent)
        ++delivered;
      outcomes.push_back(sent || !is_sent(destination.outcome()) ? lower_case(messages::outcome_Name(destination.outcome()))
                                                                  : "missing_outbox_file");
      if (file_found && !keep_outbox_)
        std::filesystem::remove(destination.outbox_file());
    }

    std::string job_outcome = "partly_delivered";
    if (static_cast<size_t>(result.destinations_size()) != expected_destinations)
      job_outcome = "incomplete_result";
    else if (delivered == expected_destinations)
      job_outcome = "delivered";
    else if (delivered == 0)
      job_outcome = "not_delivered";

    const std::lock_guard<std::mutex> lock(mutex_);
    summary_.latencies_ms.push_back(bench::elapsed_ms(submitted, finished));
    summary_.messages_delivered += delivered;
    ++summary_.jobs_by_outcome[job_outcome];
    for (const auto& outcome : outcomes)
      ++summary_.destinations_by_outcome[outcome];
    last_finish_ = finished;
    --in_flight_;
    if (in_flight_ <= resume_at_)
      changed_.notify_all();
  }

  /// Returns the figures recorded so far and the time the last job finished.
  std::pair<bench::run_summary, steady_clock::time_point> results() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return {summary_, last_finish_};
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  const size_t window_;
  const size_t resume_at_;
  const bool keep_outbox_;
  size_t in_flight_ = 0;
  bench::run_summary summary_;
  steady_clock::time_point last_finish_;
};

/// Writes the test PKI into dir unless an earlier run left it there.
void prepare_pki(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "pki" / "device.cert.pem"))
    return;
  std::filesystem::create_directories(dir);
  testing::write_test_pki(dir);
}

/// Loads the test config with delivery to `outbox`, resolving "pki/..." against pki_dir.
config::loaded_config load_router_config(const std::filesystem::path& pki_dir, const std::filesystem::path& outbox) {
  const std::string text = testing::replace_once(testing::test_config_text(), "directory: \"outbox\"",
                                                 "directory: \"" + outbox.string() + "\"");
  return config::load_config_text(text, pki_dir / "router-load.textproto");
}

std::filesystem::path make_outbox_folder(const std::optional<std::filesystem::path>& parent) {
  std::string pattern = (parent.value_or(std::filesystem::temp_directory_path()) / "router-load-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot create a temp folder from " + pattern + ": " + std::strerror(errno));
  return std::filesystem::path(pattern) / "outbox";
}

messages::job_request make_job(uint64_t number, const load_options& options,
                               const std::vector<std::string>& documents) {
  messages::job_request job;
  const auto function = options.functions[number % options.functions.size()];
  job.set_function(function);
  job.set_originator("sender@example.net");
  job.set_subject("load job " + std::to_string(number));
  job.set_body_text("The scanned document is attached.");

  const size_t count = options.destination_counts[number % options.destination_counts.size()];
  for (size_t i = 0; i < count; ++i)
    job.add_destinations()->set_id(options.destination_ids[(number + i) % options.destination_ids.size()]);

  if (function == config::STANDARD_ADDRESS) {
    job.set_request_encrypt(options.request_encrypt);
    if (options.request_no_sign)
      job.set_request_sign(messages::SIGN_REQUEST_OFF);
  }

  auto* attachment = job.add_attachments();
  attachment->set_filename("scan.pdf");
  attachment->set_content_type("application/pdf");
  attachment->set_data(documents[number % documents.size()]);
  return job;
}

std::string describe_workload(const load_options& options) {
  if (!options.label.empty())
    return options.label;

  std::string text;
  for (const auto function : options.functions)
    text += (text.empty() ? "" : ",") + lower_case(config::function_name(function));
  text += " to";
  for (const auto& id : options.destination_ids)
    text += " " + id;
  return text;
}

/// Submits the jobs, waits for them and returns the figures.
bench::run_summary run_load(api::service& service, const load_options& options, size_t window) {
  std::vector<std::string> documents;
  for (const size_t size : options.sizes)
    documents.push_back(bench::make_document(size));

  load_state state(window, options.keep_outbox);
  const double cpu_at_start = bench::cpu_seconds(false);
  const auto start = steady_clock::now();
  const auto deadline = start + std::chrono::duration_cast<steady_clock::duration>(
                                    std::chrono::duration<double>(options.seconds));

  uint64_t submitted = 0;
  while (submitted < options.jobs && steady_clock::now() < deadline) {
    if (options.rate > 0) {
      const auto due = start + std::chrono::duration_cast<steady_clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(submitted) / options.rate));
      std::this_thread::sleep_until(due);
    }

    auto job = make_job(submitted, options, documents);
    const size_t destinations = static_cast<size_t>(job.destinations_size());
    state.enter();
    const auto submit_time = steady_clock::now();
    service.submit_async(std::move(job), [&state, destinations, submit_time](messages::job_result result) {
      state.record(result, destinations, submit_time);
    });
    ++submitted;
  }
  state.wait_idle();

  auto [summary, last_finish] = state.results();
  summary.tool = "router";
  summary.label = describe_workload(options);
  summary.jobs_submitted = submitted;
  summary.wall_seconds = submitted == 0 ? 0 : bench::elapsed_ms(start, last_finish) / 1000;
  summary.cpu_seconds = bench::cpu_seconds(false) - cpu_at_start;
  summary.peak_rss_kib = bench::peak_rss_kib();
  return summary;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--help") {
    std::cout << usage_text;
    return 0;
  }

  load_options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::invalid_argument& error) {
    std::cerr << "router_load: " << error.what() << "\n" << usage_text;
    return 2;
  }
  log::set_level("error");

  std::optional<testing::scratch_dir> scratch_pki;
  std::filesystem::path outbox;
  std::unique_ptr<api::service> service;
  try {
    if (!options.pki_dir)
      options.pki_dir = scratch_pki.emplace().path();
    prepare_pki(*options.pki_dir);
    outbox = make_outbox_folder(options.outbox_parent);

    api::service_options service_options;
    service_options.clock = [] { return testing::reference_time(); };
    service_options.crypto_workers = options.workers;
    service_options.health_check_interval = std::chrono::seconds(0);
    service = api::service::start(load_router_config(*options.pki_dir, outbox), service_options);
  } catch (const std::exception& error) {
    std::cerr << "router_load: cannot start the router: " << error.what() << "\n";
    return 3;
  }

  const size_t workers = options.workers > 0 ? options.workers : api::default_crypto_workers();
  const size_t window = options.in_flight > 0 ? options.in_flight : 4 * workers;
  const bench::run_summary summary = run_load(*service, options, window);
  service->stop();

  if (options.keep_outbox)
    std::cerr << "router_load: delivered messages kept in " << outbox.string() << "\n";
  else
    std::filesystem::remove_all(outbox.parent_path());

  if (options.json)
    bench::print_json(summary, std::cout);
  else
    bench::print_text(summary, std::cout);

  const uint64_t delivered_jobs = summary.jobs_by_outcome.count("delivered") ? summary.jobs_by_outcome.at("delivered") : 0;
  return delivered_jobs == summary.jobs_submitted ? 0 : 1;
}
