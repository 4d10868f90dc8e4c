// Messages built from attachment files (compose::build_message_file) against
// the in-memory builder and against openssl.
//
// With a fixed clock and a seeded HMAC_DRBG as the random source, a job with
// a path attachment must give the same bytes as the same job with the data
// in memory, for every shape (plain, detached and opaque signatures,
// EnvelopedData and AuthEnvelopedData, signed then encrypted). A document of
// a few MiB is then checked by `openssl cms -verify` and `-decrypt`, and the
// attachment the checker returns is compared with the file.
#include "runtime/compose/compose.hpp"
#include "runtime/common/error.hpp"
#include "runtime/compose/file_build.hpp"
#include "runtime/config/config.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/hmac_drbg.h>

#include <gtest/gtest.h>

#include <random>

namespace router::testing {
namespace {

namespace fs = std::filesystem;

/// A message shape: what the plan asks for and the algorithm settings.
struct shape {
  std::string name;
  bool sign;
  bool encrypt;
  std::string algorithms;  // config text appended to the test config
};

const std::vector<shape> shapes = {
    {"plain", false, false, ""},
    {"signed", true, false, ""},
    {"opaque_signed", true, false, "algorithms { signing { form: OPAQUE } }"},
    {"enveloped_cbc", false, true, ""},
    {"enveloped_gcm", false, true, "algorithms { content_cipher: AES256_GCM }"},
    {"signed_enveloped", true, true, ""},
    {"opaque_signed_gcm", true, true, "algorithms { content_cipher: AES128_GCM signing { form: OPAQUE } }"},
};

std::string random_document(size_t length, unsigned seed) {
  std::mt19937 generator(seed);
  std::string document(length, '\0');
  for (char& c : document)
    c = static_cast<char>(generator());
  return document;
}

/// An HMAC_DRBG seeded with a fixed value, so two builds draw the same values.
std::unique_ptr<Botan::HMAC_DRBG> seeded_rng() {
  auto rng = std::make_unique<Botan::HMAC_DRBG>("SHA-256");
  const std::vector<uint8_t> seed(32, 0x5A);
  rng->add_entropy(seed.data(), seed.size());
  return rng;
}

class file_build_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = new scratch_dir();
    write_test_pki(work_->path());
  }

  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  config::loaded_config load(const std::string& extra) const {
    write_file(*work_ / "router.textproto", test_config_text(extra));
    return config::load_config(*work_ / "router.textproto");
  }

  static messages::destination_plan plan_for(const shape& shape) {
    messages::destination_plan plan;
    plan.set_index(0);
    plan.set_destination_id("alice");
    plan.set_address("alice@example.com");
    plan.set_kind(config::EMAIL);
    plan.set_action(messages::SEND);
    plan.set_sign(shape.sign);
    plan.set_encrypt(shape.encrypt);
    return plan;
  }

  /// Returns a job with a small text attachment in memory and `document` as
  /// the second attachment, in memory or by path.
  messages::job_request job_with(const std::string& document, bool by_path) const {
    messages::job_request job;
    job.set_job_id("large-1");
    job.set_function(config::STORE);
    job.set_subject("Scanned document");
    job.set_body_text("The scanned document is attached.\n");
    job.add_destinations()->set_id("alice");

    auto* note = job.add_attachments();
    note->set_filename("note.txt");
    note->set_content_type("text/plain");
    note->set_data("First page only.\n");

    auto* scan = job.add_attachments();
    scan->set_filename("scan.pdf");
    scan->set_content_type("application/pdf");
    if (!by_path) {
      scan->set_data(document);
      return job;
    }
    const fs::path file = *work_ / "scan.pdf";
    write_file(file, document);
    scan->set_path(file.string());
    return job;
  }

  messages::built_message build(const config::loaded_config& config, const messages::job_request& job,
                                const shape& shape, Botan::RandomNumberGenerator& rng) const {
    return compose::build_for_destination(config, job, plan_for(shape), reference_time(), rng);
  }

  std::string pki(const std::string& name) const { return (*work_ / "pki" / name).string(); }

  std::string attime() const { return " -attime " + std::to_string(unix_seconds(reference_time())); }

  /// Returns the openssl command that turns a message into its document entity.
  std::string open_command(const shape& shape, const std::string& file) const {
    const std::string decrypt = "openssl cms -decrypt -in " + shell_quote(file) + " -inkey " +
                                shell_quote(pki("alice.key.pem")) + " -recip " + shell_quote(pki("alice.cert.pem"));
    const std::string verify = "openssl cms -verify -CAfile " + shell_quote(pki("root.pem")) + attime();
    if (shape.encrypt && shape.sign)
      return decrypt + " | " + verify;
    if (shape.encrypt)
      return decrypt;
    if (shape.sign)
      return verify + " -in " + shell_quote(file);
    return "cat " + shell_quote(file);
  }

  static scratch_dir* work_;
};

scratch_dir* file_build_test::work_ = nullptr;

TEST_F(file_build_test, MatchesInMemoryBuildByteForByte) {
  const std::string document = random_document(200000, 3);
  for (const shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    const auto config = load(shape.algorithms);

    const auto in_memory_rng = seeded_rng();
    const auto in_memory = build(config, job_with(document, false), shape, *in_memory_rng);
    ASSERT_EQ(in_memory.reason(), messages::REASON_NONE) << in_memory.detail();
    ASSERT_TRUE(in_memory.message_file().empty());

    const auto from_file_rng = seeded_rng();
    const auto from_file = build(config, job_with(document, true), shape, *from_file_rng);
    ASSERT_EQ(from_file.reason(), messages::REASON_NONE) << from_file.detail();
    ASSERT_TRUE(from_file.message().empty());
    ASSERT_FALSE(from_file.message_file().empty());

    const std::string streamed = read_file(from_file.message_file());
    fs::remove(from_file.message_file());
    EXPECT_EQ(streamed.size(), in_memory.message().size());
    EXPECT_TRUE(streamed == in_memory.message()) << "the streamed message differs from the in-memory one";
    EXPECT_EQ(from_file.algorithms(), in_memory.algorithms());
    EXPECT_EQ(from_file.planned_outcome(), in_memory.planned_outcome());
  }
}

TEST_F(file_build_test, MessageFileGoesToOutboxTmp) {
  const auto config = load("");
  const auto rng = seeded_rng();
  const auto built = build(config, job_with("small", true), shapes[0], *rng);
  ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();

  EXPECT_EQ(fs::path(built.message_file()).parent_path(), *work_ / "outbox" / "tmp");
  // Only the message file is left: the entity file is gone.
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(*work_ / "outbox" / "tmp")) {
    EXPECT_EQ(entry.path(), fs::path(built.message_file()));
    ++files;
  }
  EXPECT_EQ(files, 1u);
  fs::remove(built.message_file());
}

TEST_F(file_build_test, OpensslReadsLargeDocument) {
  // 3 MiB and one octet, so no read chunk or base64 line ends at the file's end.
  const std::string document = random_document(3 * 1024 * 1024 + 1, 5);
  const auto job = job_with(document, true);
  for (const shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    const auto config = load(shape.algorithms);
    const auto rng = seeded_rng();
    const auto built = build(config, job, shape, *rng);
    ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();

    const scratch_dir parts;
    const std::string entity = (parts / "entity.eml").string();
    const auto opened = run_command(open_command(shape, built.message_file()) + " > " + shell_quote(entity));
    fs::remove(built.message_file());
    ASSERT_EQ(opened.exit_code, 0) << opened.output;

    const auto dumped = run_command("/usr/bin/python3 " +
                                    shell_quote(source_path("tests/mime/dump_mime_parts.py").string()) + " " +
                                    shell_quote(entity) + " " + shell_quote(parts.path().string()));
    ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
    EXPECT_NE(dumped.output.find("defects 0"), std::string::npos) << dumped.output;
    EXPECT_NE(dumped.output.find("part 3 application/pdf base64 scan.pdf"), std::string::npos) << dumped.output;
    EXPECT_TRUE(read_file(parts / "part-3.bin") == document) << "the attachment openssl returned differs";
  }
}

TEST_F(file_build_test, LinesFollowRfc5322) {
  const std::string document = random_document(1024 * 1024, 9);
  for (const shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    const auto config = load(shape.algorithms);
    const auto rng = seeded_rng();
    const auto built = build(config, job_with(document, true), shape, *rng);
    ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();
    const std::string message = read_file(built.message_file());
    fs::remove(built.message_file());

    ASSERT_GE(message.size(), 2u);
    EXPECT_EQ(message.substr(message.size() - 2), "\r\n");
    EXPECT_EQ(message.find("\r\r\n"), std::string::npos);
    size_t longest = 0;
    size_t line_start = 0;
    size_t bad_line_ends = 0;
    for (size_t i = 0; i < message.size(); ++i) {
      if (message[i] == '\n') {
        if (i == 0 || message[i - 1] != '\r')
          ++bad_line_ends;
        longest = std::max(longest, i - line_start - 1);
        line_start = i + 1;
      } else if (message[i] == '\r' && (i + 1 == message.size() || message[i + 1] != '\n')) {
        ++bad_line_ends;
      }
    }
    EXPECT_EQ(bad_line_ends, 0u);
    EXPECT_LE(longest, 998u);
  }
}

TEST_F(file_build_test, MissingAttachmentFileFailsBuild) {
  const auto config = load("");
  auto job = job_with("present", true);
  const fs::path missing = *work_ / "scans" / "missing.pdf";
  job.mutable_attachments(1)->set_path(missing.string());
  fs::create_directories(*work_ / "outbox" / "tmp");

  for (const shape& shape : {shapes[0], shapes[5]}) {
    SCOPED_TRACE(shape.name);
    const auto rng = seeded_rng();
    const auto built = build(config, job, shape, *rng);
    EXPECT_EQ(built.reason(), messages::BUILD_FAILED);
    EXPECT_EQ(built.planned_outcome(), messages::FAILED);
    EXPECT_TRUE(built.message_file().empty());
    EXPECT_NE(built.detail().find("attachment file " + missing.string()), std::string::npos) << built.detail();
    EXPECT_NE(built.detail().find("check the path"), std::string::npos) << built.detail();
    // Nothing half-written is left behind.
    EXPECT_TRUE(fs::is_empty(*work_ / "outbox" / "tmp"));
  }
}

TEST_F(file_build_test, DataAndPathTogetherRejected) {
  auto job = job_with("document", true);
  job.mutable_attachments(1)->set_data("also in memory");
  try {
    compose::check_attachments(job);
    FAIL() << "an attachment with both data and path was accepted";
  } catch (const router_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"scan.pdf\" sets both data and path"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace router::testing
