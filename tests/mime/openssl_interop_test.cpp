// OpenSSL reads our S/MIME entities: it verifies a detached signature made over
// the signed part and decrypts an application/pkcs7-mime message. OpenSSL, not
// our code, makes the signature and the enveloped data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/mime/mime.hpp"
#include "tests/mime/mime_test_support.hpp"

namespace router::mime {
namespace {

using router::testing::command_result;
using router::testing::read_file;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::write_file;

std::vector<uint8_t> as_bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

class mime_openssl_interop_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const command_result generated = run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -batch -days 2"
        " -subj '/CN=MFP test signer/emailAddress=mfp-3@example.com'"
        " -keyout " + path("key.pem") + " -out " + path("cert.pem"));
    ASSERT_EQ(generated.exit_code, 0) << generated.output;
  }

  std::string path(const std::string& name) const { return shell_quote((dir_ / name).string()); }

  /// Builds the entity to sign or encrypt: text with a long line and a non-ASCII
  /// word, so it goes quoted-printable, plus a binary attachment.
  static std::string document_entity() {
    std::vector<uint8_t> pdf(6000);
    for (size_t i = 0; i < pdf.size(); ++i)
      pdf[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
    const std::string text = "Wartungsbericht f\xC3\xBCr Drucker 3.\n" + std::string(1100, '-') + "\nEnd.\n";
    return build_document_entity(text, {{"report.pdf", "application/pdf", pdf}}, "=_inner_boundary_1");
  }

  static message_headers headers() {
    message_headers fields;
    fields.from = "mfp-3@example.com";
    fields.to = {"alice@example.com"};
    fields.subject = "Signed report";
    fields.date = format_date(1796413380);
    fields.message_id = "<interop.1@mfp-3.example.com>";
    return fields;
  }

  std::string signed_message(const std::string& entity) {
    write_file(dir_ / "entity.eml", entity);
    const command_result signed_data =
        run_command("openssl cms -sign -binary -md sha256 -in " + path("entity.eml") + " -signer " +
                    path("cert.pem") + " -inkey " + path("key.pem") + " -outform DER -out " + path("signature.der"));
    EXPECT_EQ(signed_data.exit_code, 0) << signed_data.output;

    const std::vector<uint8_t> signature = as_bytes(read_file(dir_ / "signature.der"));
    return build_message(headers(), build_signed_entity(entity, signature, "sha-256", "=_signed_boundary_2"));
  }

  /// Verifies without -binary: OpenSSL 3.0 with -binary rejoins the lines of a
  /// multipart/signed part with LF, which no longer matches CR LF signed bytes.
  command_result verify(const std::string& message) {
    write_file(dir_ / "message.eml", message);
    return run_command("openssl cms -verify -noverify -in " + path("message.eml") + " -out " +
                       path("verified.eml"));
  }

  scratch_dir dir_;
};

TEST_F(mime_openssl_interop_test, VerifiesDetachedSignature) {
  const std::string entity = document_entity();

  const command_result result = verify(signed_message(entity));

  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Verification successful"), std::string::npos) << result.output;
  EXPECT_EQ(read_file(dir_ / "verified.eml"), entity);
}

TEST_F(mime_openssl_interop_test, ChangedSignedPartFailsVerification) {
  std::string message = signed_message(document_entity());
  const size_t word = message.find("End.");
  ASSERT_NE(word, std::string::npos);
  message.replace(word, 4, "END.");

  const command_result result = verify(message);

  EXPECT_NE(result.exit_code, 0) << result.output;
}

TEST_F(mime_openssl_interop_test, DecryptsPkcs7MimeMessage) {
  const std::string entity = document_entity();
  write_file(dir_ / "entity.eml", entity);
  const command_result encrypted =
      run_command("openssl cms -encrypt -binary -aes256 -in " + path("entity.eml") + " -outform DER -out " +
                  path("enveloped.der") + " " + path("cert.pem"));
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.output;

  const std::vector<uint8_t> enveloped = as_bytes(read_file(dir_ / "enveloped.der"));
  write_file(dir_ / "message.eml", build_message(headers(), build_pkcs7_mime_entity(enveloped, "enveloped-data")));
  const command_result decrypted =
      run_command("openssl cms -decrypt -binary -in " + path("message.eml") + " -recip " + path("cert.pem") +
                  " -inkey " + path("key.pem") + " -out " + path("decrypted.eml"));

  ASSERT_EQ(decrypted.exit_code, 0) << decrypted.output;
  EXPECT_EQ(read_file(dir_ / "decrypted.eml"), entity);
}

} // namespace
} // namespace router::mime
