// Received messages sent on unchanged: a message signed by `openssl cms -sign`
// goes through compose::build_for_destination under each kind of plan, and
// openssl checks that the original signature still verifies at the destination.
// The policy plans such jobs exactly as it plans jobs with a built document.
#include "runtime/compose/compose.hpp"
#include "runtime/compose/file_build.hpp"
#include "runtime/mime/mime.hpp"
#include "runtime/mime/reader.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/policy/policy.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

namespace router::testing {
namespace {

std::string crlf(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      out += '\r';
    out += text[i];
  }
  return out;
}

class routed_content_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new scratch_dir();
    write_test_pki(dir_->path());
    config_ = new config::loaded_config(
        config::load_config_text(test_config_text(), dir_->path() / "router.textproto"));

    // The original sender is alice, signing with her own certificate.
    write_file(dir_->path() / "content.txt",
               "Content-Type: text/plain; charset=utf-8\r\n\r\nScanned page from alice.\r\nSecond line.\r\n");
    const auto signed_file = dir_->path() / "signed.eml";
    const auto signing = run_command(
        "openssl cms -sign -in " + shell_quote((dir_->path() / "content.txt").string()) + " -signer " +
        pki("alice.cert.pem") + " -inkey " + pki("alice.key.pem") + " -certfile " + pki("intermediate.pem") +
        " -out " + shell_quote(signed_file.string()));
    ASSERT_EQ(signing.exit_code, 0) << signing.output;
    received_ = new std::string("Received: from client.example.org\r\nFrom: Alice <alice@example.com>\r\n"
                                "To: box@device.example.com\r\nSubject: Scan\r\n" +
                                crlf(read_file(signed_file)));
  }

  static void TearDownTestSuite() {
    delete received_;
    delete config_;
    delete dir_;
    received_ = nullptr;
    config_ = nullptr;
    dir_ = nullptr;
  }

  static std::string pki(const std::string& name) { return shell_quote((dir_->path() / "pki" / name).string()); }

  static std::string attime() { return " -attime " + std::to_string(unix_seconds(reference_time())); }

  static messages::job_request routed_job(const std::string& message) {
    messages::job_request job;
    job.set_job_id("rcv-test-000001");
    job.set_function(config::SMTP_RECEPTION);
    job.set_originator("alice@example.com");
    job.set_subject("Scan");
    job.add_destinations()->set_id("bob");
    job.set_received_message(message);
    return job;
  }

  static messages::destination_plan plan_for(const std::string& id, bool sign, bool encrypt) {
    messages::destination_plan plan;
    plan.set_destination_id(id);
    plan.set_address(id + "@example.com");
    plan.set_kind(config::EMAIL);
    plan.set_action(messages::SEND);
    plan.set_sign(sign);
    plan.set_encrypt(encrypt);
    return plan;
  }

  /// Builds the message for a plan and writes it to a file; returns the file.
  static std::string build(const std::string& message, const messages::destination_plan& plan,
                           const std::string& name) {
    Botan::AutoSeeded_RNG rng;
    const auto built = compose::build_for_destination(*config_, routed_job(message), plan, reference_time(), rng);
    EXPECT_EQ(built.reason(), messages::REASON_NONE) << built.detail();
    const auto file = dir_->path() / name;
    if (built.message_file().empty()) {
      write_file(file, built.message());
    } else {
      // A large received message is built as a file, which belongs to the caller.
      EXPECT_TRUE(built.message().empty());
      std::filesystem::rename(built.message_file(), file);
    }
    return file.string();
  }

  static command_result verify(const std::string& file) {
    return run_command("openssl cms -verify -in " + shell_quote(file) + " -CAfile " + pki("root.pem") + attime());
  }

  static std::string decrypt_for_bob(const std::string& file) {
    const auto out = dir_->path() / "decrypted.eml";
    const auto result = run_command("openssl cms -decrypt -in " + shell_quote(file) + " -inkey " + pki("bob.key.pem") +
                                    " -recip " + pki("bob.cert.pem") + " -out " + shell_quote(out.string()));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return read_file(out);
  }

  static scratch_dir* dir_;
  static config::loaded_config* config_;
  static std::string* received_;
};

scratch_dir* routed_content_test::dir_ = nullptr;
config::loaded_config* routed_content_test::config_ = nullptr;
std::string* routed_content_test::received_ = nullptr;

TEST_F(routed_content_test, PlainPlanKeepsOriginalSignature) {
  const std::string file = build(*received_, plan_for("dave", false, false), "plain.eml");
  const std::string output = read_file(file);

  const auto check = verify(file);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("Scanned page from alice."), std::string::npos) << check.output;

  // The received Received: fields come first, then the device's own header,
  // then the content entity unchanged.
  const std::string entity = mime::received_content_entity(*received_);
  ASSERT_GE(output.size(), entity.size());
  EXPECT_EQ(output.substr(output.size() - entity.size()), entity);
  EXPECT_EQ(output.rfind("Received: from client", 0), 0u) << output.substr(0, 200);
  const auto from = output.find("\r\nFrom: router@device.example.com\r\n");
  ASSERT_NE(from, std::string::npos) << output.substr(0, 300);
  EXPECT_TRUE(mime::is_trace_field(output.substr(0, from + 2))) << output.substr(0, from + 2);
  EXPECT_NE(output.find("\r\nTo: dave@example.com\r\n"), std::string::npos);
  EXPECT_NE(output.find("\r\nSubject: Scan\r\n"), std::string::npos);
  EXPECT_EQ(output.find("alice@example.com>"), std::string::npos) << "the original From is not copied";
}

TEST_F(routed_content_test, EncryptedPlanDecryptsToOriginalSignedEntity) {
  const std::string file = build(*received_, plan_for("bob", false, true), "encrypted.eml");

  const std::string decrypted = decrypt_for_bob(file);
  EXPECT_EQ(decrypted, mime::received_content_entity(*received_));

  const auto check = verify((dir_->path() / "decrypted.eml").string());
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(routed_content_test, SignedPlanWrapsOriginalByteForByte) {
  const std::string file = build(*received_, plan_for("dave", true, false), "signed.eml");

  const auto outer = verify(file);
  EXPECT_EQ(outer.exit_code, 0) << outer.output;

  const auto smime = mime::find_smime(mime::parse_entity(read_file(file)));
  ASSERT_EQ(smime.kind, mime::smime_kind::multipart_signed);
  EXPECT_EQ(smime.signed_bytes, mime::received_content_entity(*received_));

  const auto inner_file = dir_->path() / "inner.eml";
  write_file(inner_file, smime.signed_bytes);
  const auto inner = verify(inner_file.string());
  EXPECT_EQ(inner.exit_code, 0) << inner.output;
}

TEST_F(routed_content_test, SignedAndEncryptedPlanKeepsBothSignatures) {
  const std::string file = build(*received_, plan_for("bob", true, true), "signed-encrypted.eml");

  decrypt_for_bob(file);
  const auto decrypted_file = (dir_->path() / "decrypted.eml").string();
  const auto outer = verify(decrypted_file);
  EXPECT_EQ(outer.exit_code, 0) << outer.output;

  const auto smime = mime::find_smime(mime::parse_entity(read_file(decrypted_file)));
  ASSERT_EQ(smime.kind, mime::smime_kind::multipart_signed);
  EXPECT_EQ(smime.signed_bytes, mime::received_content_entity(*received_));
}

TEST_F(routed_content_test, LargeMessageIsBuiltAsFile) {
  // Content over the threshold at which received messages are built as files.
  std::string content = "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  while (content.size() < compose::received_file_threshold + 4096)
    content += "Scanned page text, line after line, for a large received message.\r\n";
  write_file(dir_->path() / "large-content.txt", content);
  const auto signed_file = dir_->path() / "large-signed.eml";
  const auto signing = run_command(
      "openssl cms -sign -binary -in " + shell_quote((dir_->path() / "large-content.txt").string()) + " -signer " +
      pki("alice.cert.pem") + " -inkey " + pki("alice.key.pem") + " -certfile " + pki("intermediate.pem") +
      " -out " + shell_quote(signed_file.string()));
  ASSERT_EQ(signing.exit_code, 0) << signing.output;
  const std::string received = "From: Alice <alice@example.com>\r\nSubject: Large scan\r\n" +
                               crlf(read_file(signed_file));
  ASSERT_GT(received.size(), compose::received_file_threshold);

  Botan::AutoSeeded_RNG rng;
  const auto built = compose::build_for_destination(*config_, routed_job(received), plan_for("bob", true, true),
                                                    reference_time(), rng);
  ASSERT_EQ(built.reason(), messages::REASON_NONE) << built.detail();
  ASSERT_FALSE(built.message_file().empty());
  const std::string file = build(received, plan_for("bob", true, true), "large-signed-encrypted.eml");
  std::filesystem::remove(built.message_file());

  decrypt_for_bob(file);
  const auto decrypted_file = (dir_->path() / "decrypted.eml").string();
  const auto outer = verify(decrypted_file);
  EXPECT_EQ(outer.exit_code, 0) << outer.output;
  const auto smime = mime::find_smime(mime::parse_entity(read_file(decrypted_file)));
  ASSERT_EQ(smime.kind, mime::smime_kind::multipart_signed);
  EXPECT_TRUE(smime.signed_bytes == mime::received_content_entity(received)) << "the inner signed entity changed";
}

TEST_F(routed_content_test, MessageWithoutContentTypeIsTextPlain) {
  const std::string message = "From: a@example.org\r\nSubject: Scan\r\n\r\nGr\xC3\xBC\xC3\x9F\x65 8-bit \xFF\r\n";
  const std::string output = read_file(build(message, plan_for("dave", false, false), "no-type.eml"));

  EXPECT_NE(output.find("\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                        "Gr\xC3\xBC\xC3\x9F\x65 8-bit \xFF\r\n"),
            std::string::npos)
      << output;
}

TEST_F(routed_content_test, LoneLineFeedFailsBuild) {
  Botan::AutoSeeded_RNG rng;
  const auto built = compose::build_for_destination(*config_, routed_job("Subject: x\r\n\r\nbare\nline\r\n"),
                                                    plan_for("dave", false, false), reference_time(), rng);

  EXPECT_EQ(built.reason(), messages::BUILD_FAILED);
  EXPECT_NE(built.detail().find("lone CR or LF"), std::string::npos) << built.detail();
  EXPECT_TRUE(built.message().empty());
}

TEST_F(routed_content_test, PolicyPlansRoutedJobsLikeOthers) {
  for (const auto function : {config::PERSONAL_BOX, config::FORWARDING, config::SMTP_RECEPTION}) {
    SCOPED_TRACE(config::function_name(function));
    messages::job_request routed = routed_job(*received_);
    routed.set_function(function);
    for (const std::string id : {"alice", "carol", "dave", "fax"})
      routed.add_destinations()->set_id(id);
    routed.add_destinations()->set_address("outside@elsewhere.example");
    messages::job_request built = routed;
    built.clear_received_message();
    built.set_body_text("Document text.\n");

    const auto routed_plan =
        policy::plan_job(routed, config_->settings, config_->certificate_index, reference_time());
    const auto built_plan = policy::plan_job(built, config_->settings, config_->certificate_index, reference_time());

    EXPECT_EQ(routed_plan.SerializeAsString(), built_plan.SerializeAsString());
    EXPECT_EQ(routed_plan.destinations_size(), 6);
  }
}

} // namespace
} // namespace router::testing
