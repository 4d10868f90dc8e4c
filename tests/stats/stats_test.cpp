// The statistics registry, the Prometheus exposition text it is served as,
// and the reader that `smime-router stats` uses on that text.
#include "runtime/stats/http.hpp"
#include "runtime/stats/prometheus.hpp"
#include "runtime/stats/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace router::stats {
namespace {

/// Returns the value of the one sample with this name and these labels; fails the test otherwise.
double value_of(const std::vector<sample>& samples, const std::string& name,
                const std::map<std::string, std::string>& labels = {}) {
  const sample* found = nullptr;
  for (const auto& item : samples) {
    if (item.name != name || item.labels != labels)
      continue;
    EXPECT_EQ(found, nullptr) << "two samples " << name;
    found = &item;
  }
  EXPECT_NE(found, nullptr) << "no sample " << name;
  return found ? found->value : -1;
}

snapshot sample_snapshot() {
  registry figures;
  auto& worker = figures.actor("crypto_worker");
  const auto now = actor_stats::clock::now();
  worker.count_received(3);
  worker.count_handled(now - std::chrono::milliseconds(3));  // 2.5 ms < 3 ms <= 5 ms
  worker.count_received(0);
  worker.count_handled(now - std::chrono::milliseconds(30));  // 25 ms < 30 ms <= 50 ms
  worker.sample_mailbox(0);
  worker.count_failure("CERTIFICATE_EXPIRED");
  figures.count_failure("source.forwarding", "CERTIFICATE_EXPIRED");
  figures.count_failure("source.forwarding", "CERTIFICATE_EXPIRED");
  figures.count_handled("source.forwarding");
  figures.count_crypto_text("signed with RSA sha-256, then encrypted with AES-256-CBC and RSA PKCS#1 v1.5");
  figures.count_crypto_text("signed with RSA sha-256");
  figures.count_job("partly_sent");
  figures.count_destination("sent_encrypted_signed");
  figures.count_destination("failed");
  figures.change_delivery_queue_depth(2);
  figures.change_delivery_queue_depth(-2);
  figures.count_delivery_retry();
  return figures.take_snapshot();
}

TEST(stats_registry, CountsPerActor) {
  const auto figures = sample_snapshot();
  const auto& worker = figures.actors.at("crypto_worker");

  EXPECT_EQ(worker.messages_received, 2u);
  EXPECT_EQ(worker.messages_handled, 2u);
  EXPECT_EQ(worker.mailbox_depth, 0u);
  EXPECT_EQ(worker.mailbox_depth_peak, 3u);
  EXPECT_EQ(worker.failures_by_reason.at("CERTIFICATE_EXPIRED"), 1u);
  EXPECT_EQ(worker.latency.count, 2u);
  EXPECT_GE(worker.latency.sum_seconds, 0.033);
  EXPECT_EQ(worker.latency.buckets[latency_bucket(0.003)], 1u);
  EXPECT_EQ(worker.latency.buckets[latency_bucket(0.03)], 1u);

  const auto& forwarding = figures.actors.at("source.forwarding");
  EXPECT_EQ(forwarding.messages_handled, 1u);
  EXPECT_EQ(forwarding.latency.count, 0u);
  EXPECT_EQ(forwarding.failures_by_reason.at("CERTIFICATE_EXPIRED"), 2u);
}

TEST(stats_registry, CountsRouterWideFigures) {
  const auto figures = sample_snapshot();

  EXPECT_EQ(figures.crypto_operations.at("sign").at("RSA sha-256"), 2u);
  EXPECT_EQ(figures.crypto_operations.at("encrypt").at("AES-256-CBC and RSA PKCS#1 v1.5"), 1u);
  EXPECT_EQ(figures.jobs_by_outcome.at("partly_sent"), 1u);
  EXPECT_EQ(figures.destinations_by_outcome.at("failed"), 1u);
  EXPECT_EQ(figures.delivery_queue_depth, 0u);
  EXPECT_EQ(figures.delivery_queue_depth_peak, 2u);
  EXPECT_EQ(figures.delivery_retries, 1u);
}

TEST(stats_registry, CryptoTextWithoutOperationsCountsNothing) {
  registry figures;
  figures.count_crypto_text("");
  figures.count_crypto_text("plain text, nothing applied");

  EXPECT_TRUE(figures.take_snapshot().crypto_operations.empty());
}

TEST(stats_registry, ConcurrentUpdatesAreAllCounted) {
  registry figures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&figures] {
      auto& counters = figures.actor("delivery");
      for (int i = 0; i < 10000; ++i) {
        counters.count_received(static_cast<uint64_t>(i % 7));
        counters.count_handled(actor_stats::clock::now());
      }
    });
  }
  for (auto& thread : threads)
    thread.join();

  const auto delivery = figures.take_snapshot().actors.at("delivery");
  EXPECT_EQ(delivery.messages_received, 40000u);
  EXPECT_EQ(delivery.messages_handled, 40000u);
  EXPECT_EQ(delivery.latency.count, 40000u);
  EXPECT_EQ(delivery.mailbox_depth_peak, 6u);
}

TEST(latency_histogram, BucketBoundsAreInclusive) {
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(0.0005), 0u);
  EXPECT_EQ(latency_bucket(0.0006), 1u);
  EXPECT_EQ(latency_bucket(10.0), latency_bounds.size() - 1);
  EXPECT_EQ(latency_bucket(10.5), latency_bounds.size());
}

TEST(latency_histogram, QuantileInterpolatesInsideBucket) {
  latency_histogram histogram;
  histogram.buckets[latency_bucket(0.002)] = 10;  // (0.001, 0.0025]
  histogram.count = 10;

  EXPECT_NEAR(histogram.quantile(0.5), 0.00175, 1e-9);
  EXPECT_NEAR(histogram.quantile(0.99), 0.001 + 0.0015 * 0.99, 1e-9);
}

TEST(latency_histogram, QuantileInInfBucketIsLargestBound) {
  latency_histogram histogram;
  histogram.buckets[latency_bounds.size()] = 1;
  histogram.count = 1;

  EXPECT_EQ(histogram.quantile(0.5), 10.0);
  EXPECT_EQ(latency_histogram{}.quantile(0.5), 0.0);
}

/// Checks every line against the exposition format rules: comments are
/// "# HELP name text" or "# TYPE name type", each family has its HELP and
/// TYPE before its samples, counters end in _total, and a sample is
/// name{labels} value.
TEST(exposition_format, EveryLineFollowsTheFormat) {
  const std::string text = format_exposition(sample_snapshot());
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex sample_line(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*")*\})? -?[0-9.e+-]+)");

  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::istringstream lines(text);
  std::string line;
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      EXPECT_TRUE(helped.insert(match[1]).second) << "second HELP: " << line;
      continue;
    }
    if (std::regex_match(line, match, type)) {
      EXPECT_EQ(helped.count(match[1]), 1u) << "TYPE before HELP: " << line;
      EXPECT_TRUE(types.emplace(match[1], match[2]).second) << "second TYPE: " << line;
      if (match[2] == "counter") {
        const std::string name = match[1];
        EXPECT_EQ(name.substr(name.size() - 6), "_total") << line;
      }
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, match, sample_line)) << "not a sample line: " << line;
    std::string family = match[1];
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (family.size() > suffix.size() && family.compare(family.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          types.count(family.substr(0, family.size() - suffix.size())) != 0)
        family = family.substr(0, family.size() - suffix.size());
    }
    EXPECT_EQ(types.count(family), 1u) << "sample without TYPE: " << line;
  }
  EXPECT_EQ(types.at("router_actor_handling_duration_seconds"), "histogram");
  EXPECT_EQ(types.at("router_actor_mailbox_depth"), "gauge");
}

TEST(exposition_format, HistogramBucketsAreCumulative) {
  const auto samples = parse_exposition(format_exposition(sample_snapshot()));
  const std::map<std::string, std::string> worker{{"actor", "crypto_worker"}};
  const auto bucket = [&](const std::string& le) {
    return value_of(samples, "router_actor_handling_duration_seconds_bucket", {{"actor", "crypto_worker"}, {"le", le}});
  };

  EXPECT_EQ(bucket("0.0025"), 0);
  EXPECT_EQ(bucket("0.005"), 1);
  EXPECT_EQ(bucket("0.025"), 1);
  EXPECT_EQ(bucket("0.05"), 2);
  EXPECT_EQ(bucket("10"), 2);
  EXPECT_EQ(bucket("+Inf"), 2);
  EXPECT_EQ(value_of(samples, "router_actor_handling_duration_seconds_count", worker), 2);
  EXPECT_GE(value_of(samples, "router_actor_handling_duration_seconds_sum", worker), 0.033);
}

TEST(exposition_format, LabelsCarryReasonOutcomeAlgorithm) {
  const auto samples = parse_exposition(format_exposition(sample_snapshot()));

  EXPECT_EQ(value_of(samples, "router_actor_failures_total",
                     {{"actor", "source.forwarding"}, {"reason", "CERTIFICATE_EXPIRED"}}),
            2);
  EXPECT_EQ(value_of(samples, "router_crypto_operations_total", {{"operation", "sign"}, {"algorithm", "RSA sha-256"}}),
            2);
  EXPECT_EQ(value_of(samples, "router_jobs_total", {{"outcome", "partly_sent"}}), 1);
  EXPECT_EQ(value_of(samples, "router_destinations_total", {{"outcome", "sent_encrypted_signed"}}), 1);
  EXPECT_EQ(value_of(samples, "router_delivery_queue_depth_peak"), 2);
  EXPECT_EQ(value_of(samples, "router_delivery_retries_total"), 1);
  EXPECT_EQ(value_of(samples, "router_actor_mailbox_depth_peak", {{"actor", "crypto_worker"}}), 3);
}

TEST(exposition_format, LabelValuesAreEscaped) {
  registry figures;
  figures.count_failure("odd\"actor\\name\nx", "R");
  const std::string text = format_exposition(figures.take_snapshot());

  EXPECT_NE(text.find(R"(actor="odd\"actor\\name\nx")"), std::string::npos);
  const auto samples = parse_exposition(text);
  EXPECT_EQ(value_of(samples, "router_actor_failures_total", {{"actor", "odd\"actor\\name\nx"}, {"reason", "R"}}), 1);
}

TEST(exposition_format, SnapshotSurvivesTextRoundTrip) {
  const auto original = sample_snapshot();
  const auto read = snapshot_from_samples(parse_exposition(format_exposition(original)));

  ASSERT_EQ(read.actors.size(), original.actors.size());
  const auto& worker = read.actors.at("crypto_worker");
  EXPECT_EQ(worker.messages_received, 2u);
  EXPECT_EQ(worker.mailbox_depth_peak, 3u);
  EXPECT_EQ(worker.latency.buckets, original.actors.at("crypto_worker").latency.buckets);
  EXPECT_EQ(worker.latency.count, 2u);
  EXPECT_EQ(read.crypto_operations, original.crypto_operations);
  EXPECT_EQ(read.jobs_by_outcome, original.jobs_by_outcome);
  EXPECT_EQ(read.destinations_by_outcome, original.destinations_by_outcome);
  EXPECT_EQ(read.delivery_queue_depth_peak, 2u);
  EXPECT_EQ(read.delivery_retries, 1u);
  EXPECT_EQ(format_table(read), format_table(original));
}

TEST(exposition_reader, AcceptsTimestampsAndSpecialValues) {
  const auto samples = parse_exposition("# a comment\n\nm_total 3 1700000000000\ng{a=\"b\",} +Inf\r\nh NaN\n");

  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].value, 3);
  EXPECT_EQ(samples[1].labels.at("a"), "b");
  EXPECT_TRUE(std::isinf(samples[1].value));
  EXPECT_TRUE(std::isnan(samples[2].value));
}

TEST(exposition_reader, RejectsMalformedLines) {
  const std::vector<std::string> bad = {
      "1metric 3\n",          // name starts with a digit
      "m{a=b} 3\n",           // unquoted label value
      "m{a=\"b} 3\n",         // unterminated label value
      "m{a=\"b\" c=\"d\"} 1\n",  // no comma between labels
      "m 3x\n",               // invalid value
      "m\n",                  // no value
      "m 3 12 extra\n",       // text after the timestamp
      "m{a=\"\\q\"} 1\n",     // invalid escape
  };
  for (const auto& text : bad)
    EXPECT_THROW(parse_exposition(text), exposition_error) << text;
}

TEST(exposition_reader, ErrorNamesTheLine) {
  try {
    parse_exposition("ok 1\nok 2\nbroken\n");
    FAIL() << "no error";
  } catch (const exposition_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(loopback_endpoint, AcceptsLoopbackHostsAndPorts) {
  std::string problem;
  const auto plain = parse_loopback_endpoint("127.0.0.1:9464", problem);
  ASSERT_TRUE(plain.has_value()) << problem;
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 9464);

  const auto named = parse_loopback_endpoint("localhost:0", problem);
  ASSERT_TRUE(named.has_value()) << problem;
  EXPECT_EQ(named->host, "127.0.0.1");
  EXPECT_EQ(named->port, 0);

  EXPECT_TRUE(parse_loopback_endpoint("127.1.2.3:65535", problem).has_value());
}

TEST(loopback_endpoint, RejectsOtherHostsAndBadPorts) {
  const std::vector<std::string> bad = {"0.0.0.0:9464", "10.0.0.1:9464", "example.com:9464", "[::1]:9464",
                                        "127.0.0.1",    "127.0.0.1:",    "127.0.0.1:65536",  "127.0.0.1:-1",
                                        "127.0.0.1:9x", ":9464",         "127.0.0.1:123456"};
  for (const auto& text : bad) {
    std::string problem;
    EXPECT_FALSE(parse_loopback_endpoint(text, problem).has_value()) << text;
    EXPECT_FALSE(problem.empty()) << text;
  }
}

TEST(http_get, RejectsNonLoopbackUrls) {
  EXPECT_THROW(http_get("https://127.0.0.1:9464/metrics", std::chrono::seconds(1)), std::invalid_argument);
  EXPECT_THROW(http_get("http://192.0.2.1:9464/metrics", std::chrono::seconds(1)), std::invalid_argument);
  EXPECT_THROW(http_get("http://127.0.0.1:0/metrics", std::chrono::seconds(1)), std::invalid_argument);
}

} // namespace
} // namespace router::stats
