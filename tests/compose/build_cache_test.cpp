// Messages built through a compose::build_cache, as the crypto workers build
// them: certificates are still judged for each build's time, and signatures
// from the reused signer are accepted by `openssl cms -verify`, also when
// several threads build at once with a cache each.
#include "runtime/compose/build_cache.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/config/config.hpp"
#include "runtime/policy/policy.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace router::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

class build_cache_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new scratch_dir();
    write_test_pki(pki_->path());
    config_ = std::make_shared<const config::loaded_config>(
        config::load_config_text(test_config_text(), pki_->path() / "router.textproto"));
  }

  static void TearDownTestSuite() {
    config_.reset();
    delete pki_;
    pki_ = nullptr;
  }

  static messages::job_request job(config::source_function function, const std::string& destination,
                                   const std::string& text = "Please find the document attached.\n") {
    messages::job_request request;
    request.set_job_id("job-1");
    request.set_function(function);
    request.set_subject("Build cache test");
    request.set_body_text(text);
    request.add_destinations()->set_id(destination);
    return request;
  }

  /// Plans a one-destination job at `planned` and builds it at `built` through `cache`.
  static messages::built_message build(compose::build_cache& cache, const messages::job_request& request,
                                       std::chrono::system_clock::time_point planned,
                                       std::chrono::system_clock::time_point built) {
    const auto plan = policy::plan_job(request, config_->settings, config_->certificate_index, planned);
    return compose::build_for_destination(cache, request, plan.destinations(0), built);
  }

  static std::string pki(const std::string& name) { return (pki_->path() / "pki" / name).string(); }

  /// Verifies a signed message with openssl against the root alone.
  command_result verify_signed(const std::string& message, const std::string& name) const {
    const auto file = work_ / (name + ".eml");
    write_file(file, message);
    return run_command("openssl cms -verify -in " + shell_quote(file.string()) + " -CAfile " +
                       shell_quote(pki("root.pem")) + " -attime " + std::to_string(unix_seconds(reference_time())) +
                       " -out /dev/null");
  }

  /// Decrypts a message for a recipient id (alice by default), then verifies the signed entity inside.
  command_result decrypt_and_verify(const std::string& message, const std::string& name,
                                    const std::string& id = "alice") const {
    const auto file = work_ / (name + ".eml");
    write_file(file, message);
    return run_command("openssl cms -decrypt -in " + shell_quote(file.string()) + " -inkey " +
                       shell_quote(pki(id + ".key.pem")) + " -recip " + shell_quote(pki(id + ".cert.pem")) +
                       " | openssl cms -verify -CAfile " + shell_quote(pki("root.pem")) + " -attime " +
                       std::to_string(unix_seconds(reference_time())) + " -out /dev/null");
  }

  static scratch_dir* pki_;
  static std::shared_ptr<const config::loaded_config> config_;
  scratch_dir work_;
};

scratch_dir* build_cache_test::pki_ = nullptr;
std::shared_ptr<const config::loaded_config> build_cache_test::config_;

TEST_F(build_cache_test, RecipientExpiringBetweenBuildsFails) {
  Botan::AutoSeeded_RNG rng;
  compose::build_cache cache(config_, rng);
  const auto erin_end = reference_time() + hours(12);  // erin's notAfter
  const auto request = job(config::STORE, "erin");

  const auto before = build(cache, request, reference_time(), erin_end - hours(1));
  const auto after = build(cache, request, reference_time(), erin_end + seconds(1));

  EXPECT_EQ(before.reason(), messages::REASON_NONE) << before.detail();
  EXPECT_EQ(before.planned_outcome(), messages::SENT_ENCRYPTED_SIGNED);
  EXPECT_EQ(after.reason(), messages::CERTIFICATE_EXPIRED) << after.detail();
  EXPECT_TRUE(after.message().empty());
}

TEST_F(build_cache_test, DeviceExpiringBetweenBuildsFails) {
  Botan::AutoSeeded_RNG rng;
  compose::build_cache cache(config_, rng);
  const auto device_end = utc("2035-01-01T00:00:00Z");  // the device certificate's notAfter
  const auto request = job(config::SMTP_RECEPTION, "alice");

  const auto before = build(cache, request, reference_time(), reference_time());
  const auto after = build(cache, request, reference_time(), device_end + hours(1));

  EXPECT_EQ(before.reason(), messages::REASON_NONE) << before.detail();
  EXPECT_EQ(before.planned_outcome(), messages::SENT_SIGNED);
  EXPECT_EQ(after.reason(), messages::DEVICE_CERTIFICATE_UNUSABLE) << after.detail();
  EXPECT_TRUE(after.message().empty());
}

TEST_F(build_cache_test, ReusedSignerMessagesVerify) {
  Botan::AutoSeeded_RNG rng;
  compose::build_cache cache(config_, rng);

  for (int message = 0; message < 3; ++message) {
    SCOPED_TRACE("message " + std::to_string(message));
    const auto request = job(config::SMTP_RECEPTION, "alice", "Document " + std::to_string(message) + ".\n");

    const auto built = build(cache, request, reference_time(), reference_time() + seconds(message));
    ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();
    const auto result = verify_signed(built.message(), "signed-" + std::to_string(message));

    EXPECT_EQ(result.exit_code, 0) << result.output;
  }
  ASSERT_NE(cache.device_signers(), nullptr);
  EXPECT_EQ(cache.device_signers()->signers_made(), 1u);
}

TEST_F(build_cache_test, EachRecipientGetsItsOwnKey) {
  Botan::AutoSeeded_RNG rng;
  compose::build_cache cache(config_, rng);

  // Alternating recipients, so a key loaded for one is never used for the other.
  for (const std::string id : {"alice", "bob", "alice", "bob"}) {
    SCOPED_TRACE(id);
    const auto built = build(cache, job(config::STORE, id), reference_time(), reference_time());
    ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();

    const auto result = decrypt_and_verify(built.message(), "to-" + id, id);

    EXPECT_EQ(result.exit_code, 0) << result.output;
  }
}

TEST_F(build_cache_test, ThreadsWithOwnCachesBuildAtOnce) {
  constexpr int thread_count = 4;
  constexpr int messages_per_thread = 4;
  std::vector<std::vector<messages::built_message>> built(thread_count);
  std::vector<std::string> errors(thread_count);

  std::vector<std::thread> threads;
  for (int thread = 0; thread < thread_count; ++thread) {
    threads.emplace_back([&, thread] {
      try {
        Botan::AutoSeeded_RNG rng;
        compose::build_cache cache(config_, rng);
        for (int message = 0; message < messages_per_thread; ++message) {
          const auto request = job(config::STORE, "alice",
                                   "Thread " + std::to_string(thread) + " message " + std::to_string(message) + ".\n");
          built[thread].push_back(build(cache, request, reference_time(), reference_time()));
        }
      } catch (const std::exception& error) {
        errors[thread] = error.what();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();

  for (int thread = 0; thread < thread_count; ++thread) {
    ASSERT_EQ(errors[thread], "") << "thread " << thread;
    ASSERT_EQ(built[thread].size(), static_cast<size_t>(messages_per_thread));
    for (int message = 0; message < messages_per_thread; ++message) {
      SCOPED_TRACE("thread " + std::to_string(thread) + " message " + std::to_string(message));
      const auto& each = built[thread][message];
      ASSERT_EQ(each.reason(), messages::REASON_NONE) << each.detail();
      const auto result = decrypt_and_verify(each.message(), "threaded");
      EXPECT_EQ(result.exit_code, 0) << result.output;
    }
  }
}

} // namespace
} // namespace router::testing
