// A job with a path attachment through the whole router: the message is
// built as a file, moved into the Maildir outbox, and read by openssl.
#include "runtime/api/service.hpp"

#include "tests/common/test_pki.hpp"
#include "tests/integration/smtp_sink.hpp"

#include <gtest/gtest.h>

#include <random>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

class large_document_service_test : public ::testing::Test {
 protected:
  void SetUp() override {
    write_test_pki(work_.path());
    write_file(work_ / "router.textproto", test_config_text());
  }

  std::unique_ptr<api::service> start() {
    return start_with(config::load_config(work_ / "router.textproto"));
  }

  std::unique_ptr<api::service> start_with(config::loaded_config config) {
    api::service_options options;
    options.clock = [] { return reference_time(); };
    options.crypto_workers = 2;
    options.health_check_interval = std::chrono::seconds(0);
    return api::service::start(std::move(config), options);
  }

  /// Returns a STORE job (encrypted and signed by the test config) to alice
  /// and bob with the file as its attachment.
  static messages::job_request job_for(const fs::path& file) {
    messages::job_request job;
    job.set_function(config::STORE);
    job.set_subject("Stored scan");
    job.set_body_text("The stored scan is attached.\n");
    job.add_destinations()->set_id("alice");
    job.add_destinations()->set_id("bob");
    auto* attachment = job.add_attachments();
    attachment->set_filename("scan.tif");
    attachment->set_content_type("image/tiff");
    attachment->set_path(file.string());
    return job;
  }

  std::string pki(const std::string& name) const { return (work_ / "pki" / name).string(); }

  scratch_dir work_;
};

TEST_F(large_document_service_test, PathAttachmentReachesOutbox) {
  std::mt19937 generator(21);
  std::string document(2 * 1024 * 1024 + 17, '\0');
  for (char& c : document)
    c = static_cast<char>(generator());
  write_file(work_ / "scan.tif", document);

  auto router = start();
  const auto result = router->submit(job_for(work_ / "scan.tif"));
  router->stop();

  ASSERT_EQ(result.destinations_size(), 2);
  for (const auto& destination : result.destinations()) {
    SCOPED_TRACE(destination.destination_id());
    ASSERT_EQ(destination.outcome(), messages::SENT_ENCRYPTED_SIGNED) << destination.detail();
    ASSERT_EQ(fs::path(destination.outbox_file()).parent_path(), work_ / "outbox" / "new");
    // The same permissions as outbox messages built in memory.
    EXPECT_EQ(fs::status(destination.outbox_file()).permissions(),
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

    const std::string id = destination.destination_id();
    const std::string entity = (work_ / (id + ".entity")).string();
    const auto opened = run_command(
        "openssl cms -decrypt -in " + shell_quote(destination.outbox_file()) + " -inkey " +
        shell_quote(pki(id + ".key.pem")) + " -recip " + shell_quote(pki(id + ".cert.pem")) +
        " | openssl cms -verify -CAfile " + shell_quote(pki("root.pem")) + " -attime " +
        std::to_string(unix_seconds(reference_time())) + " -out " + shell_quote(entity));
    ASSERT_EQ(opened.exit_code, 0) << opened.output;

    const fs::path parts = work_ / (id + "-parts");
    fs::create_directories(parts);
    const auto dumped = run_command("/usr/bin/python3 " +
                                    shell_quote(source_path("tests/mime/dump_mime_parts.py").string()) + " " +
                                    shell_quote(entity) + " " + shell_quote(parts.string()));
    ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
    EXPECT_NE(dumped.output.find("part 2 image/tiff base64 scan.tif"), std::string::npos) << dumped.output;
    EXPECT_TRUE(read_file(parts / "part-2.bin") == document) << "the attachment openssl returned differs";
  }
  // The message files were moved, and no entity file is left.
  EXPECT_TRUE(fs::is_empty(work_ / "outbox" / "tmp"));
  // The attachment file itself stays: it belongs to the caller.
  EXPECT_TRUE(fs::exists(work_ / "scan.tif"));
}

TEST_F(large_document_service_test, PathAttachmentReachesSmtpRelay) {
  std::mt19937 generator(22);
  std::string document(3 * 1024 * 1024 + 5, '\0');
  for (char& c : document)
    c = static_cast<char>(generator());
  write_file(work_ / "scan.tif", document);
  smtp_sink relay(work_.path());
  write_file(work_ / "router.textproto",
             replace_once(test_config_text(), "delivery { outbox { directory: \"outbox\" } }",
                          "delivery { smtp_relay { host: \"127.0.0.1\" port: " + std::to_string(relay.port()) +
                              " timeout_seconds: 30 starttls: NEVER } }"));

  auto router = start();
  auto job = job_for(work_ / "scan.tif");
  job.mutable_destinations()->DeleteSubrange(0, 1);  // bob only
  const auto result = router->submit(job);
  router->stop();

  ASSERT_EQ(result.destinations_size(), 1);
  ASSERT_EQ(result.destinations(0).outcome(), messages::SENT_ENCRYPTED_SIGNED) << result.destinations(0).detail();
  const auto stored = relay.messages();
  ASSERT_EQ(stored.size(), 1u);
  const std::string entity = (work_ / "bob.entity").string();
  const auto opened = run_command(
      "openssl cms -decrypt -in " + shell_quote(stored[0].string()) + " -inkey " + shell_quote(pki("bob.key.pem")) +
      " | openssl cms -verify -CAfile " + shell_quote(pki("root.pem")) + " -attime " +
      std::to_string(unix_seconds(reference_time())) + " -out " + shell_quote(entity));
  ASSERT_EQ(opened.exit_code, 0) << opened.output;

  const fs::path parts = work_ / "bob-parts";
  fs::create_directories(parts);
  const auto dumped = run_command("/usr/bin/python3 " + shell_quote(source_path("tests/mime/dump_mime_parts.py").string()) +
                                  " " + shell_quote(entity) + " " + shell_quote(parts.string()));
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
  EXPECT_TRUE(read_file(parts / "part-2.bin") == document) << "the attachment the relay received differs";
}

TEST_F(large_document_service_test, MissingAttachmentFileRejectsJob) {
  auto router = start();
  const fs::path missing = work_ / "scans" / "missing.tif";
  try {
    router->submit(job_for(missing));
    FAIL() << "a job with a missing attachment file was accepted";
  } catch (const api::invalid_job& e) {
    EXPECT_NE(std::string(e.what()).find("attachment file " + missing.string()), std::string::npos) << e.what();
  }
}

TEST_F(large_document_service_test, DataAndPathTogetherRejectJob) {
  write_file(work_ / "scan.tif", std::string("tiff"));
  auto job = job_for(work_ / "scan.tif");
  job.mutable_attachments(0)->set_data("tiff");

  auto router = start();
  EXPECT_THROW(router->submit(job), api::invalid_job);
}

} // namespace
} // namespace router::testing
