// The reception handler with fake submit, notice and timer functions:
// recipients by route, encrypted mail rejected, one job per route, jobs
// spooled before the 250 reply, deferred destinations retried from the spool,
// failures reported to the sender, and recovery after a crash.
#include "runtime/reception/routing_handler.hpp"

#include "runtime/common/error.hpp"
#include "runtime/log/log.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/common/log_capture.hpp"
#include "tests/common/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace router::testing {
namespace {

using reception::routing_handler;

const std::string plain_message =
    "From: Sender Name <sender@example.org>\r\n"
    "To: box@device.example.com\r\n"
    "Subject: =?utf-8?q?Scan_f=C3=BCr?= you\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Page one.\r\n";

/// Checks that `stored` is `message` with the router's Received: field on top.
void expect_traced(const std::string& stored, const std::string& message) {
  ASSERT_GT(stored.size(), message.size());
  EXPECT_EQ(stored.substr(stored.size() - message.size()), message);
  const std::string trace = stored.substr(0, stored.size() - message.size());
  EXPECT_EQ(trace.rfind("Received: from client.example.org ([127.0.0.1])\r\n\tby localhost with ESMTP id r-000001", 0),
            0u)
      << trace;
  EXPECT_TRUE(mime::is_trace_field(trace)) << trace;
}

/// A submitted job and the callback that finishes it.
struct submitted_job {
  messages::job_request job;
  routing_handler::result_callback done;
};

/// A requested non-delivery notice and the callback that reports its delivery.
struct requested_notice {
  messages::delivery_failure_notice_request request;
  routing_handler::notice_callback done;
};

/// A retry the handler scheduled, fired by hand.
struct scheduled_task {
  std::chrono::milliseconds delay;
  std::function<void()> run;
};

/// Returns a result for every destination of `job`: sent, unless `failures`
/// gives its index a reason and a detail.
messages::job_result result_for(const messages::job_request& job,
                                const std::map<int, std::pair<messages::reason_code, std::string>>& failures = {}) {
  messages::job_result result;
  result.set_job_id(job.job_id());
  for (int i = 0; i < job.destinations_size(); ++i) {
    auto& destination = *result.add_destinations();
    destination.set_job_id(job.job_id());
    destination.set_index(static_cast<uint32_t>(i));
    destination.set_address(job.destinations(i).address().empty() ? job.destinations(i).id() + "@example.com"
                                                                   : job.destinations(i).address());
    const auto failure = failures.find(i);
    if (failure == failures.end()) {
      destination.set_outcome(messages::SENT_PLAIN);
      continue;
    }
    destination.set_outcome(messages::FAILED);
    destination.set_reason(failure->second.first);
    destination.set_detail(failure->second.second);
  }
  return result;
}

std::vector<std::string> destination_names(const messages::job_request& job) {
  std::vector<std::string> names;
  for (const auto& destination : job.destinations())
    names.push_back(destination.address().empty() ? destination.id() : destination.address());
  return names;
}

const std::string relay_down = "relay 127.0.0.1:2525: cannot connect: Connection refused";
const std::string relay_rejects = "relay 127.0.0.1:2525: the relay rejected RCPT TO: 550 5.1.1 mailbox unavailable";

class routing_handler_test : public ::testing::Test {
 protected:
  routing_handler_test() {
    settings_.set_listen("127.0.0.1:0");
    settings_.set_spool_directory((dir_.path() / "spool").string());
    add_route("Box@Device.Example.com", config::PERSONAL_BOX, {"alice"});
    add_route("fwd@device.example.com", config::FORWARDING, {"bob", "someone@elsewhere.example"});
    add_route("rcv@device.example.com", config::SMTP_RECEPTION, {"dave"});
  }

  void add_route(const std::string& address, config::source_function function,
                 const std::vector<std::string>& destinations) {
    config::reception_route& route = *settings_.add_routes();
    route.set_address(address);
    route.set_function(function);
    for (const auto& destination : destinations)
      route.add_destinations(destination);
  }

  /// Returns a handler whose submits land in `submitted`, whose notices land
  /// in notices_ and whose retries land in timers_, on the clock now_.
  std::unique_ptr<routing_handler> make_handler(std::vector<submitted_job>& submitted) {
    return std::make_unique<routing_handler>(
        settings_, stats_,
        [&submitted](messages::job_request job, routing_handler::result_callback done) {
          submitted.push_back({std::move(job), std::move(done)});
        },
        notice_recorder(), [this] { return now_; },
        [this](std::chrono::milliseconds delay, std::function<void()> run) {
          timers_.push_back({delay, std::move(run)});
        });
  }

  routing_handler::notice_function notice_recorder() {
    return [this](messages::delivery_failure_notice_request request, routing_handler::notice_callback done) {
      notices_.push_back({std::move(request), std::move(done)});
    };
  }

  /// Fires the oldest scheduled retry.
  void fire_timer() {
    ASSERT_FALSE(timers_.empty());
    auto task = std::move(timers_.front());
    timers_.erase(timers_.begin());
    task.run();
  }

  messages::spooled_job spooled(const std::string& job_id) const {
    messages::spooled_job entry;
    EXPECT_TRUE(entry.ParseFromString(read_file(dir_.path() / "spool" / (job_id + ".job")))) << job_id;
    return entry;
  }

  int64_t now_unix() const { return std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count(); }

  static smtp::received_envelope envelope(std::vector<std::string> recipients,
                                          const std::string& mail_from = "sender@example.org") {
    smtp::received_envelope result;
    result.session_id = "r-000001";
    result.peer = "127.0.0.1:40000";
    result.helo = "client.example.org";
    result.extended = true;
    result.mail_from = mail_from;
    result.recipients = std::move(recipients);
    return result;
  }

  std::vector<std::filesystem::path> spool_files() const {
    std::vector<std::filesystem::path> files;
    for (const auto& item : std::filesystem::directory_iterator(dir_.path() / "spool")) {
      if (item.is_regular_file())
        files.push_back(item.path());
    }
    return files;
  }

  uint64_t failures(const std::string& reason) const {
    const auto snapshot = stats_->take_snapshot();
    const auto actor = snapshot.actors.find(reception::stats_name);
    if (actor == snapshot.actors.end())
      return 0;
    const auto found = actor->second.failures_by_reason.find(reason);
    return found == actor->second.failures_by_reason.end() ? 0 : found->second;
  }

  scratch_dir dir_;
  config::smtp_reception settings_;
  std::shared_ptr<stats::registry> stats_ = std::make_shared<stats::registry>();
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::time_point(std::chrono::hours(480000));
  std::vector<requested_notice> notices_;
  std::vector<scheduled_task> timers_;
};

TEST_F(routing_handler_test, KnownRecipientIsAccepted) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  const smtp::reply reply = handler->check_recipient(envelope({}), "box@device.example.COM");

  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(reply.status, "2.1.5");
}

TEST_F(routing_handler_test, UnknownRecipientIsRejected) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  const smtp::reply reply = handler->check_recipient(envelope({}), "nobody@device.example.com");

  EXPECT_EQ(reply.code, 550);
  EXPECT_EQ(reply.status, "5.1.1");
  EXPECT_NE(reply.text.find("<nobody@device.example.com>"), std::string::npos) << reply.text;
  EXPECT_EQ(failures("UNKNOWN_RECIPIENT"), 1u);
}

TEST_F(routing_handler_test, EncryptedMessageIsRejected) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  const std::string encrypted =
      "From: sender@example.org\r\n"
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n";

  const smtp::reply reply = handler->accept_message(envelope({"box@device.example.com"}), encrypted);

  EXPECT_EQ(reply.code, 554);
  EXPECT_EQ(reply.status, "5.7.1");
  EXPECT_NE(reply.text.find("cannot receive S/MIME-encrypted mail"), std::string::npos) << reply.text;
  EXPECT_TRUE(submitted.empty());
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(failures("ENCRYPTED_MAIL_REFUSED"), 1u);
}

TEST_F(routing_handler_test, LoneLineBreakIsRejected) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  const smtp::reply reply =
      handler->accept_message(envelope({"box@device.example.com"}), "Subject: x\r\n\r\nbare\nline\r\n");

  EXPECT_EQ(reply.code, 554);
  EXPECT_EQ(reply.status, "5.6.0");
  EXPECT_TRUE(submitted.empty());
  EXPECT_TRUE(spool_files().empty());
}

TEST_F(routing_handler_test, LoopingMessageIsRejected) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  std::string trace;
  for (int hop = 0; hop < 99; ++hop)
    trace += "Received: from a.example by b.example; Sat, 05 Dec 2026 01:00:00 +0000\r\n";

  const smtp::reply looping =
      handler->accept_message(envelope({"box@device.example.com"}), trace + "Received: from c\r\n" + plain_message);
  const smtp::reply allowed = handler->accept_message(envelope({"box@device.example.com"}), trace + plain_message);

  EXPECT_EQ(looping.code, 554);
  EXPECT_EQ(looping.status, "5.4.6");
  EXPECT_NE(looping.text.find("100 Received: fields"), std::string::npos) << looping.text;
  EXPECT_EQ(allowed.code, 250) << allowed.text;
  EXPECT_EQ(submitted.size(), 1u);
  EXPECT_EQ(spool_files().size(), 1u);
}

TEST_F(routing_handler_test, RecipientsAreGroupedByRoute) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  const smtp::reply reply = handler->accept_message(
      envelope({"box@device.example.com", "FWD@device.example.com", "Box@device.example.com",
                "rcv@device.example.com"}),
      plain_message);

  ASSERT_EQ(reply.code, 250) << reply.text;
  EXPECT_EQ(reply.status, "2.0.0");
  ASSERT_EQ(submitted.size(), 3u);
  for (const auto& entry : submitted)
    EXPECT_NE(reply.text.find(entry.job.job_id()), std::string::npos) << reply.text;

  const messages::job_request& box = submitted[0].job;
  EXPECT_EQ(box.function(), config::PERSONAL_BOX);
  EXPECT_EQ(box.end_receiver(), "box@device.example.com");
  ASSERT_EQ(box.destinations_size(), 1);
  EXPECT_EQ(box.destinations(0).id(), "alice");

  const messages::job_request& forwarding = submitted[1].job;
  EXPECT_EQ(forwarding.function(), config::FORWARDING);
  EXPECT_EQ(forwarding.end_receiver(), "");
  ASSERT_EQ(forwarding.destinations_size(), 2);
  EXPECT_EQ(forwarding.destinations(0).id(), "bob");
  EXPECT_EQ(forwarding.destinations(1).address(), "someone@elsewhere.example");
  EXPECT_EQ(forwarding.destinations(1).id(), "");

  EXPECT_EQ(submitted[2].job.function(), config::SMTP_RECEPTION);
  for (const auto& entry : submitted) {
    EXPECT_EQ(entry.job.originator(), "sender@example.org");
    EXPECT_EQ(entry.job.subject(), "Scan f\xC3\xBCr you");
    expect_traced(entry.job.received_message(), plain_message);
    EXPECT_TRUE(entry.job.body_text().empty());
  }
}

TEST_F(routing_handler_test, ReplyNamesJobOrJobs) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  const smtp::reply one = handler->accept_message(envelope({"box@device.example.com"}), plain_message);
  const smtp::reply two =
      handler->accept_message(envelope({"box@device.example.com", "fwd@device.example.com"}), plain_message);

  ASSERT_EQ(submitted.size(), 3u);
  EXPECT_EQ(one.text, "Message accepted as job " + submitted[0].job.job_id());
  EXPECT_EQ(two.text, "Message accepted as jobs " + submitted[1].job.job_id() + ", " + submitted[2].job.job_id());
}

TEST_F(routing_handler_test, MessagesAreCountedOnce) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  const std::string encrypted =
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n";

  handler->check_recipient(envelope({}), "nobody@device.example.com");
  EXPECT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  EXPECT_EQ(handler->accept_message(envelope({"box@device.example.com"}), encrypted).code, 554);

  const auto figures = stats_->take_snapshot().actors.at(reception::stats_name);
  EXPECT_EQ(figures.messages_received, 2u);
  EXPECT_EQ(figures.messages_handled, 2u);
  EXPECT_EQ(figures.latency.count, 2u);
  EXPECT_EQ(failures("UNKNOWN_RECIPIENT"), 1u);
  EXPECT_EQ(failures("ENCRYPTED_MAIL_REFUSED"), 1u);
}

TEST_F(routing_handler_test, OriginatorFallsBackToFromField) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);

  handler->accept_message(envelope({"fwd@device.example.com"}, ""), plain_message);

  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].job.originator(), "sender@example.org");
}

TEST_F(routing_handler_test, JobIsSpooledBeforeSubmit) {
  std::vector<messages::job_request> found_in_spool;
  routing_handler handler(
      settings_, stats_,
      [&](messages::job_request job, routing_handler::result_callback) {
        const std::string data = read_file(dir_.path() / "spool" / (job.job_id() + ".job"));
        messages::spooled_job stored;
        ASSERT_TRUE(stored.ParseFromString(data));
        EXPECT_EQ(stored.reverse_path(), "sender@example.org");
        EXPECT_EQ(stored.accepted_unix(), now_unix());
        found_in_spool.push_back(stored.job());
      },
      notice_recorder(), [this] { return now_; });

  const smtp::reply reply = handler.accept_message(envelope({"fwd@device.example.com"}), plain_message);

  ASSERT_EQ(reply.code, 250) << reply.text;
  ASSERT_EQ(found_in_spool.size(), 1u);
  expect_traced(found_in_spool[0].received_message(), plain_message);
  EXPECT_EQ(found_in_spool[0].function(), config::FORWARDING);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "spool" / "tmp"));
}

TEST_F(routing_handler_test, ResultRemovesSpoolFile) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  handler->accept_message(envelope({"box@device.example.com", "fwd@device.example.com"}), plain_message);
  ASSERT_EQ(submitted.size(), 2u);
  ASSERT_EQ(spool_files().size(), 2u);

  submitted[0].done(result_for(submitted[0].job));

  const auto remaining = spool_files();
  ASSERT_EQ(remaining.size(), 1u);
  EXPECT_EQ(remaining[0].stem().string(), submitted[1].job.job_id());
}

TEST_F(routing_handler_test, SpoolFailureReturnsTemporaryError) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  // A file where the staging folder should be makes every spool write fail.
  std::filesystem::remove(dir_.path() / "spool" / "tmp");
  write_file(dir_.path() / "spool" / "tmp", "not a folder");

  const smtp::reply reply =
      handler->accept_message(envelope({"box@device.example.com", "fwd@device.example.com"}), plain_message);

  EXPECT_EQ(reply.code, 451);
  EXPECT_EQ(reply.status, "4.3.0");
  EXPECT_TRUE(submitted.empty());
  EXPECT_EQ(spool_files().size(), 1u) << "only the file that replaced the staging folder";
  EXPECT_EQ(failures("SPOOL_FAILED"), 1u);
}

TEST_F(routing_handler_test, PartlyWrittenSpoolIsRemoved) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  ASSERT_EQ(submitted.size(), 1u);
  submitted[0].done(result_for(submitted[0].job));

  // Job ids count up, so the next message makes jobs ...002 and ...003. A
  // folder in the way of the second file fails its rename after the first.
  const std::string first_id = submitted[0].job.job_id();
  const std::string prefix = first_id.substr(0, first_id.size() - 6);
  const auto blocker = dir_.path() / "spool" / (prefix + "000003.job");
  std::filesystem::create_directories(blocker);
  write_file(blocker / "keep", "x");

  const smtp::reply reply =
      handler->accept_message(envelope({"box@device.example.com", "fwd@device.example.com"}), plain_message);

  EXPECT_EQ(reply.code, 451) << reply.text;
  EXPECT_EQ(submitted.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "spool" / (prefix + "000002.job")));
  EXPECT_TRUE(spool_files().empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "spool" / "tmp"));
}

TEST_F(routing_handler_test, SpoolSurvivesCrashAndRecoversOnce) {
  std::vector<submitted_job> before_crash;
  auto handler = make_handler(before_crash);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  ASSERT_EQ(before_crash.size(), 1u);
  const messages::job_request accepted = before_crash[0].job;

  // The crash: the handler goes away before any result arrives.
  handler.reset();
  before_crash.clear();

  std::vector<submitted_job> after_restart;
  auto restarted = make_handler(after_restart);
  EXPECT_EQ(restarted->recover(), 1u);
  EXPECT_EQ(restarted->recover(), 0u) << "a job in flight is not submitted twice";

  ASSERT_EQ(after_restart.size(), 1u);
  EXPECT_EQ(after_restart[0].job.SerializeAsString(), accepted.SerializeAsString());

  after_restart[0].done(result_for(after_restart[0].job));
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(restarted->recover(), 0u);
  EXPECT_EQ(after_restart.size(), 1u);
}

TEST_F(routing_handler_test, CorruptSpoolFileIsMovedAside) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  const auto spool = dir_.path() / "spool";
  write_file(spool / "rcv-garbage.job", "\xff\xff\xff not protobuf");
  messages::job_request renamed;
  renamed.set_job_id("rcv-other");
  renamed.set_function(config::FORWARDING);
  renamed.add_destinations()->set_id("bob");
  renamed.set_received_message(plain_message);
  write_file(spool / "rcv-renamed.job", renamed.SerializeAsString());
  write_file(spool / "tmp" / "rcv-half.job", "half written");

  EXPECT_EQ(handler->recover(), 0u);

  EXPECT_TRUE(submitted.empty());
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(read_file(spool / "failed" / "rcv-garbage.job"), "\xff\xff\xff not protobuf");
  EXPECT_EQ(read_file(spool / "failed" / "rcv-renamed.job"), renamed.SerializeAsString());
  EXPECT_TRUE(std::filesystem::is_empty(spool / "tmp")) << "an unacknowledged half-written file is removed";
  EXPECT_EQ(failures("SPOOL_FILE_UNREADABLE"), 2u);
}

TEST_F(routing_handler_test, FailedSubmitKeepsSpoolFile) {
  routing_handler handler(
      settings_, stats_,
      [](messages::job_request, routing_handler::result_callback) {
        throw std::invalid_argument("the router is stopped");
      },
      notice_recorder(), [this] { return now_; });

  const smtp::reply reply = handler.accept_message(envelope({"fwd@device.example.com"}), plain_message);

  EXPECT_EQ(reply.code, 250) << "the message is durable, so it is accepted";
  EXPECT_EQ(spool_files().size(), 1u);
  EXPECT_EQ(failures("SUBMIT_FAILED"), 1u);

  std::vector<submitted_job> after_restart;
  EXPECT_EQ(make_handler(after_restart)->recover(), 1u);
  EXPECT_EQ(after_restart.size(), 1u);
}

TEST_F(routing_handler_test, UnwritableSpoolFolderFailsConstruction) {
  write_file(dir_.path() / "blocked", "a file, not a folder");
  settings_.set_spool_directory((dir_.path() / "blocked" / "spool").string());
  std::vector<submitted_job> submitted;

  try {
    make_handler(submitted);
    FAIL() << "the handler was made on an unusable spool folder";
  } catch (const router_error& e) {
    EXPECT_NE(std::string(e.what()).find("blocked"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reception.spool_directory"), std::string::npos) << e.what();
  }
}

const std::string message_with_id =
    "From: Sender Name <sender@example.org>\r\n"
    "To: fwd@device.example.com\r\n"
    "Subject: Quarterly report\r\n"
    "Message-ID: <report-17@example.org>\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "CONFIDENTIAL-BODY-TEXT\r\n";

TEST_F(routing_handler_test, DeferredDestinationIsRetriedAlone) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"fwd@device.example.com"}), plain_message).code, 250);
  ASSERT_EQ(submitted.size(), 1u);
  const std::string job_id = submitted[0].job.job_id();

  // bob is sent; the second destination finds the relay down.
  submitted[0].done(result_for(submitted[0].job, {{1, {messages::DELIVERY_DEFERRED, relay_down}}}));

  const auto entry = spooled(job_id);
  EXPECT_EQ(destination_names(entry.job()), std::vector<std::string>{"someone@elsewhere.example"});
  EXPECT_EQ(entry.deferrals(), 1u);
  EXPECT_EQ(entry.accepted_unix(), now_unix());
  EXPECT_EQ(entry.next_attempt_unix(), now_unix() + 60);
  expect_traced(entry.job().received_message(), plain_message);
  ASSERT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_[0].delay, std::chrono::seconds(60));
  EXPECT_EQ(submitted.size(), 1u) << "nothing is resubmitted before the back-off";
  EXPECT_TRUE(notices_.empty());
  EXPECT_EQ(failures("DELIVERY_DEFERRED"), 1u);

  fire_timer();

  ASSERT_EQ(submitted.size(), 2u);
  EXPECT_EQ(submitted[1].job.job_id(), job_id);
  EXPECT_EQ(destination_names(submitted[1].job), std::vector<std::string>{"someone@elsewhere.example"})
      << "bob was sent already and must not be sent twice";

  submitted[1].done(result_for(submitted[1].job));
  EXPECT_TRUE(spool_files().empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_TRUE(notices_.empty());
}

TEST_F(routing_handler_test, RetryDelayDoublesUpToMaximum) {
  settings_.set_retry_first_seconds(10);
  settings_.set_retry_max_seconds(25);
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);

  const std::vector<std::chrono::milliseconds> expected = {std::chrono::seconds(10), std::chrono::seconds(20),
                                                           std::chrono::seconds(25), std::chrono::seconds(25)};
  for (size_t round = 0; round < expected.size(); ++round) {
    ASSERT_EQ(submitted.size(), round + 1);
    submitted.back().done(result_for(submitted.back().job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));
    ASSERT_EQ(timers_.size(), 1u) << "round " << round;
    EXPECT_EQ(timers_[0].delay, expected[round]) << "round " << round;
    fire_timer();
  }
}

TEST_F(routing_handler_test, ExpiredQueueLifetimeBounces) {
  settings_.set_max_queue_seconds(3600);
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), message_with_id).code, 250);
  const std::string job_id = submitted[0].job.job_id();
  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));
  fire_timer();
  ASSERT_EQ(submitted.size(), 2u);

  // The relay is still down when the hour is over.
  now_ += std::chrono::seconds(3600);
  submitted[1].done(result_for(submitted[1].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));

  EXPECT_TRUE(timers_.empty());
  ASSERT_EQ(notices_.size(), 1u);
  const auto& request = notices_[0].request;
  EXPECT_EQ(request.recipient(), "sender@example.org");
  ASSERT_EQ(request.failed_size(), 1);
  EXPECT_EQ(request.failed(0).address(), "alice@example.com");
  EXPECT_EQ(request.failed(0).reason(), messages::DELIVERY_DEFERRED);
  EXPECT_EQ(request.failed(0).detail(), relay_down);
  EXPECT_EQ(request.arrival_unix(), now_unix() - 3600);
  EXPECT_EQ(spooled(job_id).undeliverable_size(), 1) << "the notice is owed until it is sent";

  notices_[0].done(messages::destination_result{});
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_SENT"), 1u);
}

TEST_F(routing_handler_test, PermanentFailureBouncesAndRemoves) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"fwd@device.example.com"}), message_with_id).code, 250);

  submitted[0].done(result_for(submitted[0].job, {{1, {messages::DELIVERY_FAILED, relay_rejects}}}));

  EXPECT_TRUE(timers_.empty()) << "a permanent failure is not retried";
  ASSERT_EQ(notices_.size(), 1u);
  const auto& request = notices_[0].request;
  EXPECT_EQ(request.recipient(), "sender@example.org");
  ASSERT_EQ(request.failed_size(), 1);
  EXPECT_EQ(request.failed(0).address(), "someone@elsewhere.example");
  EXPECT_EQ(request.failed(0).detail(), relay_rejects);
  EXPECT_EQ(request.original().subject(), "Quarterly report");
  EXPECT_EQ(request.original().message_id(), "<report-17@example.org>");
  EXPECT_TRUE(request.job().received_message().empty()) << "a notice never carries the message";
  EXPECT_EQ(request.SerializeAsString().find("CONFIDENTIAL-BODY-TEXT"), std::string::npos);

  notices_[0].done(messages::destination_result{});
  EXPECT_TRUE(spool_files().empty());
}

TEST_F(routing_handler_test, NullSenderGetsNoNotice) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}, ""), plain_message).code, 250);

  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));

  EXPECT_TRUE(notices_.empty());
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(failures("UNDELIVERABLE_NOT_REPORTED"), 1u);
}

TEST_F(routing_handler_test, ReceivedReportGetsNoNotice) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  const std::string report =
      "From: postmaster@example.org\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n";
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), report).code, 250);

  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));

  EXPECT_TRUE(notices_.empty());
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(failures("UNDELIVERABLE_NOT_REPORTED"), 1u);
}

TEST_F(routing_handler_test, DeferredNoticeIsRetried) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));
  ASSERT_EQ(notices_.size(), 1u);

  messages::destination_result deferred;
  deferred.set_outcome(messages::FAILED);
  deferred.set_reason(messages::DELIVERY_DEFERRED);
  deferred.set_detail(relay_down);
  notices_[0].done(deferred);

  ASSERT_EQ(spool_files().size(), 1u) << "the notice is still owed";
  ASSERT_EQ(timers_.size(), 1u);
  fire_timer();
  ASSERT_EQ(notices_.size(), 2u);
  EXPECT_EQ(notices_[1].request.failed(0).detail(), relay_rejects);
  notices_[1].done(messages::destination_result{});
  EXPECT_TRUE(spool_files().empty());
  EXPECT_EQ(submitted.size(), 1u) << "the failed destination is not tried again";
}

TEST_F(routing_handler_test, NoticeDueAtExpiryGetsOwnLifetime) {
  settings_.set_retry_first_seconds(10);
  settings_.set_retry_max_seconds(25);
  settings_.set_max_queue_seconds(3600);
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  const std::string job_id = submitted[0].job.job_id();
  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));
  fire_timer();
  ASSERT_EQ(submitted.size(), 2u);

  // The relay is still down when the queue lifetime ends, and stays down for
  // the notice's first two attempts.
  now_ += std::chrono::seconds(3600);
  const int64_t due = now_unix();
  submitted[1].done(result_for(submitted[1].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(spooled(job_id).notice_due_unix(), due);

  messages::destination_result deferred;
  deferred.set_outcome(messages::FAILED);
  deferred.set_reason(messages::DELIVERY_DEFERRED);
  deferred.set_detail(relay_down);
  notices_[0].done(deferred);

  ASSERT_EQ(spool_files().size(), 1u) << "the notice is still owed after the queue lifetime";
  EXPECT_EQ(spooled(job_id).next_attempt_unix(), due + 10);
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_FAILED"), 0u);
  ASSERT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_[0].delay, std::chrono::seconds(10)) << "the notice's back-off starts at retry_first_seconds";

  now_ += std::chrono::seconds(10);
  fire_timer();
  ASSERT_EQ(notices_.size(), 2u);
  notices_[1].done(deferred);
  ASSERT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_[0].delay, std::chrono::seconds(20));
  EXPECT_EQ(spooled(job_id).notice_due_unix(), due) << "a retry keeps the time the notice became due";

  now_ += std::chrono::seconds(20);
  fire_timer();
  ASSERT_EQ(notices_.size(), 3u);
  EXPECT_EQ(notices_[2].request.failed(0).detail(), relay_down);
  notices_[2].done(messages::destination_result{});

  EXPECT_TRUE(spool_files().empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_SENT"), 1u);
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_FAILED"), 0u);
  EXPECT_EQ(submitted.size(), 2u) << "the expired destination is not tried again";
}

TEST_F(routing_handler_test, NoticeLifetimeExpiryLosesNotice) {
  settings_.set_max_queue_seconds(3600);
  std::vector<submitted_job> before_crash;
  auto handler = make_handler(before_crash);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  const std::string job_id = before_crash[0].job.job_id();
  now_ += std::chrono::seconds(100);
  const int64_t due = now_unix();
  before_crash[0].done(result_for(before_crash[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));
  ASSERT_EQ(notices_.size(), 1u);

  messages::destination_result deferred;
  deferred.set_outcome(messages::FAILED);
  deferred.set_reason(messages::DELIVERY_DEFERRED);
  deferred.set_detail(relay_down);
  notices_[0].done(deferred);
  ASSERT_EQ(timers_.size(), 1u);

  // A restart keeps the time the notice became due.
  handler.reset();
  timers_.clear();
  now_ += std::chrono::seconds(3599);
  std::vector<submitted_job> after_restart;
  auto restarted = make_handler(after_restart);
  EXPECT_EQ(restarted->recover(), 1u);
  ASSERT_EQ(notices_.size(), 2u);
  EXPECT_EQ(spooled(job_id).notice_due_unix(), due);
  notices_[1].done(deferred);
  ASSERT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_[0].delay, std::chrono::seconds(1)) << "the last attempt is due when the lifetime ends";
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_FAILED"), 0u);

  now_ += std::chrono::seconds(1);
  log_capture logs;
  fire_timer();
  ASSERT_EQ(notices_.size(), 3u);
  notices_[2].done(deferred);

  EXPECT_TRUE(spool_files().empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_FAILED"), 1u);
  const std::string text = logs.text();
  EXPECT_NE(text.find("error reception job " + job_id + ": lost for alice@example.com (DELIVERY_FAILED)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("was still deferred when its lifetime of 3600 s ended"), std::string::npos) << text;
  EXPECT_TRUE(after_restart.empty());
}

TEST_F(routing_handler_test, FailedNoticeIsCountedAndRemoved) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));
  ASSERT_EQ(notices_.size(), 1u);

  messages::destination_result rejected;
  rejected.set_outcome(messages::FAILED);
  rejected.set_reason(messages::DELIVERY_FAILED);
  rejected.set_detail(relay_rejects);
  notices_[0].done(rejected);

  EXPECT_TRUE(spool_files().empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_EQ(failures("NON_DELIVERY_NOTICE_FAILED"), 1u);
}

TEST_F(routing_handler_test, NotifiedCertificateFailureIsNotBounced) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);

  auto result = result_for(submitted[0].job, {{0, {messages::CERTIFICATE_EXPIRED, "expired"}}});
  result.set_notification_sent(true);
  submitted[0].done(result);

  EXPECT_TRUE(notices_.empty()) << "the certificate notice already told the sender";
  EXPECT_TRUE(spool_files().empty());
}

TEST_F(routing_handler_test, RestartResumesRewrittenSpool) {
  std::vector<submitted_job> before_crash;
  auto handler = make_handler(before_crash);
  ASSERT_EQ(handler->accept_message(envelope({"fwd@device.example.com"}), plain_message).code, 250);
  const std::string job_id = before_crash[0].job.job_id();
  const int64_t accepted = now_unix();
  before_crash[0].done(result_for(before_crash[0].job, {{1, {messages::DELIVERY_DEFERRED, relay_down}}}));

  // The crash: the pending retry goes with the handler.
  handler.reset();
  timers_.clear();
  now_ += std::chrono::seconds(20);

  std::vector<submitted_job> after_restart;
  auto restarted = make_handler(after_restart);
  EXPECT_EQ(restarted->recover(), 1u);
  EXPECT_EQ(restarted->recover(), 0u) << "a job waiting for its retry is not resumed twice";
  EXPECT_TRUE(after_restart.empty()) << "the next attempt is not due yet";
  ASSERT_EQ(timers_.size(), 1u);
  EXPECT_EQ(timers_[0].delay, std::chrono::seconds(40));

  fire_timer();
  ASSERT_EQ(after_restart.size(), 1u);
  EXPECT_EQ(destination_names(after_restart[0].job), std::vector<std::string>{"someone@elsewhere.example"});

  after_restart[0].done(result_for(after_restart[0].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));
  EXPECT_EQ(spooled(job_id).accepted_unix(), accepted) << "the queue lifetime counts from the first accept";
  EXPECT_EQ(spooled(job_id).deferrals(), 2u);
}

TEST_F(routing_handler_test, OwedNoticeIsSentAfterRestart) {
  const auto spool_dir = dir_.path() / "spool";
  std::filesystem::create_directories(spool_dir);
  messages::spooled_job entry;
  entry.mutable_job()->set_job_id("rcv-earlier-000001");
  entry.mutable_job()->set_function(config::FORWARDING);
  entry.mutable_job()->set_received_message(message_with_id);
  entry.set_reverse_path("sender@example.org");
  entry.set_accepted_unix(now_unix() - 100);
  auto& failed = *entry.add_undeliverable();
  failed.set_address("someone@elsewhere.example");
  failed.set_reason(messages::DELIVERY_FAILED);
  failed.set_detail(relay_rejects);
  write_file(spool_dir / "rcv-earlier-000001.job", entry.SerializeAsString());

  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  EXPECT_EQ(handler->recover(), 1u);

  EXPECT_TRUE(submitted.empty());
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(notices_[0].request.failed(0).address(), "someone@elsewhere.example");
  notices_[0].done(messages::destination_result{});
  EXPECT_TRUE(spool_files().empty());
}

TEST_F(routing_handler_test, BareJobRequestFileIsResumed) {
  const auto spool_dir = dir_.path() / "spool";
  std::filesystem::create_directories(spool_dir);
  messages::job_request job;
  job.set_job_id("rcv-older-000001");
  job.set_function(config::FORWARDING);
  job.set_originator("sender@example.org");
  job.add_destinations()->set_id("bob");
  job.set_received_message(plain_message);
  write_file(spool_dir / "rcv-older-000001.job", job.SerializeAsString());

  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  EXPECT_EQ(handler->recover(), 1u);

  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].job.SerializeAsString(), job.SerializeAsString());
  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_FAILED, relay_rejects}}}));
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_EQ(notices_[0].request.recipient(), "sender@example.org");
}

TEST_F(routing_handler_test, ClosedHandlerLeavesRetryInSpool) {
  std::vector<submitted_job> submitted;
  auto handler = make_handler(submitted);
  ASSERT_EQ(handler->accept_message(envelope({"box@device.example.com"}), plain_message).code, 250);
  handler->close();

  submitted[0].done(result_for(submitted[0].job, {{0, {messages::DELIVERY_DEFERRED, relay_down}}}));

  EXPECT_TRUE(timers_.empty());
  ASSERT_EQ(spool_files().size(), 1u);
  EXPECT_EQ(spooled(submitted[0].job.job_id()).deferrals(), 1u);
}

} // namespace
} // namespace router::testing
