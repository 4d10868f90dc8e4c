// Statistics of a running router through the embedding API and GET /metrics
// on 127.0.0.1: counters after a known sequence of jobs, the HTTP responses for
// other paths, other methods and malformed or oversized requests.
#include "runtime/api/service.hpp"
#include "runtime/stats/http.hpp"
#include "runtime/stats/prometheus.hpp"

#include "tests/common/test_pki.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

/// Sends raw bytes to 127.0.0.1:port, ends the sending side, and returns
/// everything the server sends before it closes the connection (at most 5 s).
std::string send_raw(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    return {};
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);  // the server reads the end of the request at once
  std::string answer;
  char buffer[4096];
  ssize_t received = 0;
  while ((received = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    answer.append(buffer, static_cast<size_t>(received));
  ::close(fd);
  return answer;
}

/// Returns the status code of a raw HTTP response, or 0.
int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12)
    return 0;
  return std::stoi(answer.substr(9, 3));
}

bool is_sent(messages::outcome outcome) {
  return outcome == messages::SENT_ENCRYPTED_SIGNED || outcome == messages::SENT_ENCRYPTED ||
         outcome == messages::SENT_SIGNED || outcome == messages::SENT_PLAIN;
}

class metrics_test : public ::testing::Test {
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

  std::unique_ptr<api::service> start(const std::string& extra = "metrics_listen: \"127.0.0.1:0\"\n") {
    write_file(work_ / "router.textproto", test_config_text(extra));
    api::service_options options;
    options.clock = [] { return reference_time(); };
    options.crypto_workers = 2;
    options.health_check_interval = std::chrono::seconds(0);
    return api::service::start(config::load_config(work_ / "router.textproto"), options);
  }

  static messages::job_request job(config::source_function function, const std::vector<std::string>& ids) {
    messages::job_request request;
    request.set_function(function);
    request.set_subject("Metrics test");
    for (const auto& id : ids)
      request.add_destinations()->set_id(id);
    auto* attachment = request.add_attachments();
    attachment->set_filename("document.txt");
    attachment->set_content_type("text/plain");
    attachment->set_data("metrics test document\n");
    return request;
  }

  static scratch_dir* pki_;
  scratch_dir work_;
};

scratch_dir* metrics_test::pki_ = nullptr;

TEST_F(metrics_test, CountersMatchKnownJobs) {
  auto router = start();
  std::vector<messages::job_result> results;
  results.push_back(router->submit(job(config::STORE, {"alice", "carol"})));  // carol's certificate has expired
  results.push_back(router->submit(job(config::TRANSFER_BOX, {"alice", "bob"})));
  results.push_back(router->submit(job(config::STANDARD_ADDRESS, {"dave"})));

  std::map<std::string, uint64_t> destinations;
  uint64_t signatures = 0;
  uint64_t encryptions = 0;
  for (const auto& result : results) {
    for (const auto& destination : result.destinations()) {
      std::string outcome = messages::outcome_Name(destination.outcome());
      for (auto& c : outcome)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++destinations[outcome];
      signatures += destination.algorithms().find("signed with") != std::string::npos;
      encryptions += destination.algorithms().find("encrypted with") != std::string::npos;
    }
  }
  ASSERT_EQ(results[0].destinations(1).reason(), messages::CERTIFICATE_EXPIRED);
  ASSERT_TRUE(is_sent(results[1].destinations(0).outcome()));
  ASSERT_TRUE(is_sent(results[2].destinations(0).outcome()));

  const auto figures = router->stats();
  EXPECT_EQ(figures.actors.at("source.store").messages_received, 1u);
  EXPECT_EQ(figures.actors.at("source.store").messages_handled, 1u);
  EXPECT_EQ(figures.actors.at("source.store").failures_by_reason.at("CERTIFICATE_EXPIRED"), 1u);
  EXPECT_EQ(figures.actors.at("source.store").latency.count, 1u);
  EXPECT_EQ(figures.actors.at("source.transfer_box").messages_handled, 1u);
  EXPECT_EQ(figures.actors.at("source.standard_address").messages_handled, 1u);
  EXPECT_EQ(figures.actors.at("delivery").messages_received, 5u);
  EXPECT_EQ(figures.actors.at("delivery").messages_handled, 5u);
  EXPECT_EQ(figures.actors.at("delivery").mailbox_depth, 0u);
  EXPECT_EQ(figures.actors.at("crypto_worker").messages_handled, figures.actors.at("crypto_worker").messages_received);
  EXPECT_EQ(figures.jobs_by_outcome.at("partly_sent"), 1u);
  EXPECT_EQ(figures.jobs_by_outcome.at("sent"), 2u);
  EXPECT_EQ(figures.jobs_by_outcome.count("not_sent"), 0u);
  EXPECT_EQ(figures.destinations_by_outcome, destinations);
  EXPECT_EQ(figures.delivery_queue_depth, 0u);
  EXPECT_EQ(figures.delivery_retries, 0u);

  uint64_t counted_signatures = 0;
  uint64_t counted_encryptions = 0;
  for (const auto& [algorithm, count] : figures.crypto_operations.count("sign") ? figures.crypto_operations.at("sign")
                                                                                : std::map<std::string, uint64_t>{})
    counted_signatures += count;
  for (const auto& [algorithm, count] : figures.crypto_operations.count("encrypt")
                                            ? figures.crypto_operations.at("encrypt")
                                            : std::map<std::string, uint64_t>{})
    counted_encryptions += count;
  EXPECT_GT(signatures, 0u);
  EXPECT_EQ(counted_signatures, signatures);
  EXPECT_EQ(counted_encryptions, encryptions);
}

TEST_F(metrics_test, EndpointServesSameTextAsApi) {
  auto router = start();
  router->submit(job(config::STORE, {"alice", "carol"}));
  ASSERT_NE(router->metrics_port(), 0);

  const std::string url = "http://127.0.0.1:" + std::to_string(router->metrics_port()) + "/metrics";
  const auto response = stats::http_get(url, std::chrono::seconds(5));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, stats::exposition_content_type);
  EXPECT_EQ(response.body, router->metrics_text());

  const auto figures = stats::snapshot_from_samples(stats::parse_exposition(response.body));
  EXPECT_EQ(figures.actors.at("source.store").failures_by_reason.at("CERTIFICATE_EXPIRED"), 1u);
  EXPECT_EQ(figures.jobs_by_outcome.at("partly_sent"), 1u);
}

TEST_F(metrics_test, OtherPathsGet404) {
  auto router = start();
  const uint16_t port = router->metrics_port();

  EXPECT_EQ(status_of(send_raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 404);
  EXPECT_EQ(status_of(send_raw(port, "GET /metrics/extra HTTP/1.1\r\n\r\n")), 404);
  EXPECT_EQ(status_of(send_raw(port, "GET /metrics?name=x HTTP/1.1\r\n\r\n")), 200);
  const std::string head = send_raw(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_of(head), 200);
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
}

TEST_F(metrics_test, BadRequestsAreRejectedAndServerKeepsServing) {
  auto router = start();
  const uint16_t port = router->metrics_port();

  EXPECT_EQ(status_of(send_raw(port, "garbage\r\n\r\n")), 400);
  EXPECT_EQ(status_of(send_raw(port, "GET /metrics\r\n\r\n")), 400);
  EXPECT_EQ(status_of(send_raw(port, "GET metrics HTTP/1.1\r\n\r\n")), 400);
  EXPECT_EQ(status_of(send_raw(port, "GET /metrics HTTP/2.0\r\n\r\n")), 400);
  EXPECT_EQ(status_of(send_raw(port, std::string("GET /metrics\0 HTTP/1.1\r\n\r\n", 27))), 400);
  EXPECT_EQ(status_of(send_raw(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")), 405);
  EXPECT_EQ(status_of(send_raw(port, "GET /metrics HTTP/1.1\r\nX-Fill: " + std::string(20000, 'a') + "\r\n\r\n")),
            431);
  EXPECT_EQ(send_raw(port, ""), "");                          // connect and close at once
  EXPECT_EQ(status_of(send_raw(port, "GET /metr")), 400);     // head cut off by the client

  EXPECT_EQ(stats::http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics", std::chrono::seconds(5)).status,
            200);
}

TEST_F(metrics_test, NoEndpointWithoutMetricsListen) {
  auto router = start("");

  EXPECT_EQ(router->metrics_port(), 0);
  EXPECT_NE(router->metrics_text().find("# TYPE router_jobs_total counter"), std::string::npos);
}

TEST_F(metrics_test, BusyPortStopsStart) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string port = std::to_string(ntohs(address.sin_port));

  try {
    start("metrics_listen: \"127.0.0.1:" + port + "\"\n");
    ADD_FAILURE() << "the router started on a busy port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + port), std::string::npos) << e.what();
  }
  ::close(fd);
}

} // namespace
} // namespace router::testing
