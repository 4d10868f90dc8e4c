// The router under load through the embedding API, with several crypto workers
// and delivery threads: GET /metrics on 127.0.0.1 is scraped while jobs run,
// and the final figures are compared with the test's own counts of every job
// and destination. Also checks that concurrent jobs keep their destination
// order in the outbox.
#include "runtime/api/service.hpp"
#include "runtime/stats/http.hpp"
#include "runtime/stats/prometheus.hpp"

#include "tests/common/test_pki.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <regex>
#include <sstream>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

std::string lower_case(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_sent(messages::outcome outcome) {
  return outcome == messages::SENT_ENCRYPTED_SIGNED || outcome == messages::SENT_ENCRYPTED ||
         outcome == messages::SENT_SIGNED || outcome == messages::SENT_PLAIN;
}

/// Job and destination counts kept by the test from the results it receives.
class result_counter {
 public:
  void record(const messages::job_result& result) {
    size_t sent = 0;
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& destination : result.destinations()) {
      ++destinations_[lower_case(messages::outcome_Name(destination.outcome()))];
      sent += is_sent(destination.outcome()) ? 1 : 0;
    }
    const std::string outcome = sent == static_cast<size_t>(result.destinations_size()) ? "sent"
                                : sent == 0                                              ? "not_sent"
                                                                                         : "partly_sent";
    ++jobs_[outcome];
    ++finished_;
    changed_.notify_all();
  }

  /// Blocks until at least `count` jobs have finished or 60 s have passed, and returns whether they finished.
  bool wait_finished(uint64_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return finished_ >= count; });
  }

  uint64_t finished() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return finished_;
  }

  std::map<std::string, uint64_t> jobs() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return jobs_;
  }

  std::map<std::string, uint64_t> destinations() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return destinations_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t finished_ = 0;
  std::map<std::string, uint64_t> jobs_;
  std::map<std::string, uint64_t> destinations_;
};

/// Returns the values of the "jobs ..." and "destinations ..." lines of
/// stats::format_summary(), by label.
std::map<std::string, uint64_t> summary_totals(const std::string& summary) {
  std::map<std::string, uint64_t> totals;
  std::istringstream lines(summary);
  std::string line;
  const std::regex pattern(R"(^((jobs|destinations) \S+)\s+([0-9]+)$)");
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, pattern))
      totals[match[1]] = std::stoull(match[3]);
  }
  return totals;
}

class load_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new scratch_dir();
    write_test_pki(pki_->path());
  }

  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    fs::create_directories(work_ / "pki");
    for (const auto& entry : fs::directory_iterator(pki_->path() / "pki"))
      fs::copy(entry.path(), work_.path() / "pki" / entry.path().filename(), fs::copy_options::overwrite_existing);
  }

  std::unique_ptr<api::service> start() {
    write_file(work_ / "router.textproto", test_config_text("metrics_listen: \"127.0.0.1:0\"\n"));
    api::service_options options;
    options.clock = [] { return reference_time(); };
    options.crypto_workers = 2;
    options.delivery_threads = 4;
    options.health_check_interval = std::chrono::seconds(0);
    return api::service::start(config::load_config(work_ / "router.textproto"), options);
  }

  /// Returns job `number` of a mix: signed and encrypted to two destinations,
  /// signed only, one expired certificate among two, plain, and a forwarded
  /// job whose only destination has an expired certificate.
  static messages::job_request job(uint64_t number) {
    struct shape {
      config::source_function function;
      std::vector<std::string> destinations;
    };
    static const std::vector<shape> shapes = {
        {config::STORE, {"alice", "bob"}},     {config::SMTP_RECEPTION, {"alice"}},
        {config::STORE, {"alice", "carol"}},   {config::STANDARD_ADDRESS, {"bob"}},
        {config::FORWARDING, {"carol"}},
    };
    const shape& chosen = shapes[number % shapes.size()];

    messages::job_request request;
    request.set_function(chosen.function);
    request.set_originator("sender@example.net");
    request.set_subject("Load test " + std::to_string(number));
    request.set_body_text("Load test document.\n");
    for (const auto& id : chosen.destinations)
      request.add_destinations()->set_id(id);
    auto* attachment = request.add_attachments();
    attachment->set_filename("scan.txt");
    attachment->set_content_type("text/plain");
    attachment->set_data(std::string(4096, 'x'));
    return request;
  }

  static stats::snapshot scrape(uint16_t port) {
    const auto response =
        stats::http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics", std::chrono::seconds(5));
    EXPECT_EQ(response.status, 200);
    return stats::snapshot_from_samples(stats::parse_exposition(response.body));
  }

  static uint64_t latency_count(const stats::snapshot& figures) {
    uint64_t count = 0;
    for (const auto& [name, actor] : figures.actors)
      count += actor.latency.count;
    return count;
  }

  static uint64_t mailbox_depth(const stats::snapshot& figures) {
    uint64_t depth = 0;
    for (const auto& [name, actor] : figures.actors)
      depth += actor.mailbox_depth;
    return depth;
  }

  /// Returns "name=depth" for every actor whose mailbox depth is not 0.
  static std::string nonzero_mailboxes(const stats::snapshot& figures) {
    std::string text;
    for (const auto& [name, actor] : figures.actors) {
      if (actor.mailbox_depth != 0)
        text += name + "=" + std::to_string(actor.mailbox_depth) + " ";
    }
    return text;
  }

  static scratch_dir* pki_;
  scratch_dir work_;
};

scratch_dir* load_test::pki_ = nullptr;

TEST_F(load_test, MetricsMoveWhileJobsRun) {
  constexpr uint64_t rounds = 10;
  constexpr uint64_t jobs_per_round = 20;
  auto router = start();
  const uint16_t port = router->metrics_port();
  ASSERT_NE(port, 0);
  result_counter counter;

  std::vector<stats::snapshot> scrapes{scrape(port)};  // one before the load and one after each round
  std::vector<stats::snapshot> scrapes_during_load;
  uint64_t submitted = 0;
  uint64_t nonzero_mailbox_scrapes = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    for (uint64_t i = 0; i < jobs_per_round; ++i)
      router->submit_async(job(submitted++), [&counter](messages::job_result result) { counter.record(result); });

    // Scraped again and again while the burst is being built and delivered.
    // At most 200 scrapes a round, so a stuck router ends the loop too.
    for (int attempt = 0; attempt < 200 && counter.finished() < submitted; ++attempt) {
      const auto during = scrape(port);
      nonzero_mailbox_scrapes += mailbox_depth(during) > 0 ? 1 : 0;
      scrapes_during_load.push_back(during);
    }

    // Every job of this round has replied, so the latency counts have moved since the last scrape.
    ASSERT_TRUE(counter.wait_finished(submitted)) << "only " << counter.finished() << " of " << submitted
                                                  << " jobs finished within 60 s";
    scrapes.push_back(scrape(port));
  }
  const auto final_scrape = scrape(port);
  router->stop();

  for (size_t i = 1; i < scrapes.size(); ++i) {
    SCOPED_TRACE("scrape after round " + std::to_string(i));
    EXPECT_GT(latency_count(scrapes[i]), latency_count(scrapes[i - 1]));
  }
  for (size_t i = 1; i < scrapes_during_load.size(); ++i) {
    SCOPED_TRACE("scrape " + std::to_string(i) + " during the load");
    EXPECT_GE(latency_count(scrapes_during_load[i]), latency_count(scrapes_during_load[i - 1]));
  }
  EXPECT_GT(scrapes_during_load.size(), 0u);
  EXPECT_GT(nonzero_mailbox_scrapes, 0u) << "none of " << scrapes_during_load.size()
                                         << " scrapes during the load saw a message waiting in any mailbox";
  EXPECT_EQ(mailbox_depth(final_scrape), 0u) << nonzero_mailboxes(final_scrape);
  uint64_t peak_total = 0;
  for (const auto& [name, actor] : final_scrape.actors)
    peak_total += actor.mailbox_depth_peak;
  EXPECT_GT(peak_total, 0u);

  const auto expected_jobs = counter.jobs();
  const auto expected_destinations = counter.destinations();
  uint64_t job_total = 0;
  for (const auto& [outcome, count] : expected_jobs)
    job_total += count;
  EXPECT_EQ(job_total, rounds * jobs_per_round);
  EXPECT_GT(expected_jobs.count("partly_sent"), 0u);
  EXPECT_GT(expected_jobs.count("not_sent"), 0u);

  const auto figures = router->stats();
  EXPECT_EQ(figures.jobs_by_outcome, expected_jobs);
  EXPECT_EQ(figures.destinations_by_outcome, expected_destinations);
  EXPECT_EQ(final_scrape.jobs_by_outcome, expected_jobs);
  EXPECT_EQ(final_scrape.destinations_by_outcome, expected_destinations);

  // The same totals in the summary that `smime-router stats` prints.
  const auto printed = summary_totals(stats::format_summary(final_scrape));
  for (const auto& [outcome, count] : expected_jobs)
    EXPECT_EQ(printed.count("jobs " + outcome) ? printed.at("jobs " + outcome) : 0, count) << outcome;
  for (const auto& [outcome, count] : expected_destinations)
    EXPECT_EQ(printed.count("destinations " + outcome) ? printed.at("destinations " + outcome) : 0, count)
        << outcome;
}

TEST_F(load_test, ConcurrentJobsKeepDestinationOrder) {
  constexpr int job_count = 30;
  auto router = start();
  result_counter counter;
  std::mutex results_mutex;
  std::vector<messages::job_result> results;

  for (int number = 0; number < job_count; ++number) {
    messages::job_request request = job(0);  // store to alice and bob
    request.add_destinations()->set_id("fax");
    router->submit_async(std::move(request), [&](messages::job_result result) {
      {
        const std::lock_guard<std::mutex> lock(results_mutex);
        results.push_back(result);
      }
      counter.record(result);
    });
  }
  ASSERT_TRUE(counter.wait_finished(job_count)) << "only " << counter.finished() << " jobs finished within 60 s";
  router->stop();

  // Maildir names carry a per-router sequence number ("Q<n>"), taken when the file is written.
  const std::regex sequence_pattern("Q([0-9]+)\\.");
  const std::lock_guard<std::mutex> lock(results_mutex);
  ASSERT_EQ(results.size(), static_cast<size_t>(job_count));
  for (const auto& result : results) {
    SCOPED_TRACE("job " + result.job_id());
    long last_sequence = -1;
    for (const auto& destination : result.destinations()) {
      ASSERT_TRUE(is_sent(destination.outcome())) << destination.detail();
      std::smatch match;
      const std::string name = fs::path(destination.outbox_file()).filename().string();
      ASSERT_TRUE(std::regex_search(name, match, sequence_pattern)) << name;
      const long sequence = std::stol(match[1]);
      EXPECT_GT(sequence, last_sequence) << "destination " << destination.index() << " was sent out of order";
      last_sequence = sequence;
    }
  }
}

} // namespace
} // namespace router::testing
