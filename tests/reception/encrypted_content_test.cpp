// The encrypted-mail check against messages made by `openssl cms` and by our
// own CMS encoder. Enveloped and authEnveloped data are found with and without
// smime-type, under the x- type, in any parameter case, and in base64 and
// binary bodies. Signed data and certs-only pass. Malformed input does not throw.
#include "runtime/reception/encrypted_content.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

#include <regex>

namespace router::testing {
namespace {

const std::string outer_header = "From: sender@example.org\r\nTo: box@device.example.com\r\nSubject: scan\r\n";

/// Converts LF line ends (as openssl writes them) to CR LF.
std::string crlf(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      out += '\r';
    out += text[i];
  }
  return out;
}

class encrypted_content_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new scratch_dir();
    write_test_pki(dir_->path());
    write_file(dir_->path() / "content.txt", "Content-Type: text/plain\r\n\r\nScanned page.\r\n");
  }

  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string pki(const std::string& name) { return shell_quote((dir_->path() / "pki" / name).string()); }

  /// Runs `openssl cms -in content.txt ARGUMENTS` and returns its output file.
  static std::string openssl_cms(const std::string& arguments) {
    const auto out = dir_->path() / "out.bin";
    // Recipient certificates come last, after every option.
    const auto result = run_command("openssl cms -in " + shell_quote((dir_->path() / "content.txt").string()) +
                                    " -out " + shell_quote(out.string()) + " " + arguments);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return read_file(out);
  }

  /// Returns a complete message: the outer header and openssl's S/MIME output.
  static std::string openssl_message(const std::string& arguments) {
    return outer_header + crlf(openssl_cms(arguments));
  }

  static std::string encrypted_message() { return openssl_message("-encrypt -aes256 " + pki("alice.cert.pem")); }

  static scratch_dir* dir_;
};

scratch_dir* encrypted_content_test::dir_ = nullptr;

std::string without_smime_type(const std::string& message) {
  return std::regex_replace(message, std::regex(" ?smime-type=[A-Za-z-]+;?"), "");
}

TEST_F(encrypted_content_test, OpensslEnvelopedDataIsEncrypted) {
  const std::string message = encrypted_message();
  ASSERT_NE(message.find("smime-type=enveloped-data"), std::string::npos) << message;

  const auto check = reception::check_encrypted_content(message);
  EXPECT_TRUE(check.encrypted);
  EXPECT_NE(check.reason.find("enveloped-data"), std::string::npos) << check.reason;
}

TEST_F(encrypted_content_test, OpensslAuthEnvelopedDataIsEncrypted) {
  const std::string message = openssl_message("-encrypt -aes-256-gcm " + pki("alice.cert.pem"));
  ASSERT_NE(message.find("smime-type=authEnveloped-data"), std::string::npos) << message;

  EXPECT_TRUE(reception::check_encrypted_content(message).encrypted);
}

TEST_F(encrypted_content_test, MissingSmimeTypeFallsBackToOid) {
  const std::string enveloped = without_smime_type(encrypted_message());
  const std::string auth_enveloped =
      without_smime_type(openssl_message("-encrypt -aes-256-gcm " + pki("alice.cert.pem")));
  ASSERT_EQ(enveloped.find("smime-type"), std::string::npos) << enveloped;

  const auto check = reception::check_encrypted_content(enveloped);
  EXPECT_TRUE(check.encrypted);
  EXPECT_NE(check.reason.find("1.2.840.113549.1.7.3"), std::string::npos) << check.reason;
  const auto auth_check = reception::check_encrypted_content(auth_enveloped);
  EXPECT_TRUE(auth_check.encrypted);
  EXPECT_NE(auth_check.reason.find("1.2.840.113549.1.9.16.1.23"), std::string::npos) << auth_check.reason;
}

TEST_F(encrypted_content_test, XPkcs7MimeTypeIsEncrypted) {
  const std::string message =
      std::regex_replace(encrypted_message(), std::regex("application/pkcs7-mime"), "application/x-pkcs7-mime");
  ASSERT_NE(message.find("application/x-pkcs7-mime"), std::string::npos);

  EXPECT_TRUE(reception::check_encrypted_content(message).encrypted);
  EXPECT_TRUE(reception::check_encrypted_content(without_smime_type(message)).encrypted);
}

TEST_F(encrypted_content_test, ParameterCaseIsIgnored) {
  const std::string body = "\r\n\r\nnot decodable\r\n";
  for (const std::string type : {"Application/PKCS7-MIME; SMIME-TYPE=Enveloped-Data",
                                 "application/pkcs7-mime; Smime-Type=\"AUTHENVELOPED-DATA\"",
                                 "APPLICATION/X-PKCS7-MIME; smime-type=enveloped-data; name=smime.p7m"}) {
    SCOPED_TRACE(type);
    // The body is not CMS, so only the parameter can have decided.
    EXPECT_TRUE(reception::check_encrypted_content(outer_header + "content-type: " + type + body).encrypted);
  }
}

TEST_F(encrypted_content_test, BinaryDerBodyIsEncrypted) {
  const std::string der = openssl_cms("-encrypt -aes128 -outform DER " + pki("alice.cert.pem"));
  const std::string message = outer_header +
                              "Content-Type: application/pkcs7-mime; name=smime.p7m\r\n"
                              "Content-Transfer-Encoding: binary\r\n\r\n" + der;

  EXPECT_TRUE(reception::check_encrypted_content(message).encrypted);
}

TEST_F(encrypted_content_test, IndefiniteLengthBerIsEncrypted) {
  const std::string ber = openssl_cms("-encrypt -stream -aes128 -outform DER " + pki("alice.cert.pem"));
  ASSERT_GE(ber.size(), 2u);
  ASSERT_EQ(static_cast<uint8_t>(ber[1]), 0x80) << "openssl did not write indefinite length";
  const std::string message = outer_header + "Content-Type: application/pkcs7-mime\r\n\r\n" + ber;

  EXPECT_TRUE(reception::check_encrypted_content(message).encrypted);
}

TEST_F(encrypted_content_test, OctetStreamNamedP7mIsChecked) {
  const std::string encrypted = encrypted_message();
  const std::string body = encrypted.substr(encrypted.find("\r\n\r\n"));
  const std::string by_name = outer_header +
                              "Content-Type: application/octet-stream; name=\"smime.p7m\"\r\n"
                              "Content-Transfer-Encoding: base64" + body;
  const std::string by_file_name = outer_header +
                                   "Content-Type: application/octet-stream\r\n"
                                   "Content-Disposition: attachment; filename=SCAN.P7M\r\n"
                                   "Content-Transfer-Encoding: base64" + body;
  const std::string other_name = outer_header +
                                 "Content-Type: application/octet-stream; name=\"scan.bin\"\r\n"
                                 "Content-Transfer-Encoding: base64" + body;

  EXPECT_TRUE(reception::check_encrypted_content(by_name).encrypted);
  EXPECT_TRUE(reception::check_encrypted_content(by_file_name).encrypted);
  EXPECT_FALSE(reception::check_encrypted_content(other_name).encrypted);
}

TEST_F(encrypted_content_test, WrongSmimeTypeLabelDoesNotHideEncryption) {
  const std::string message = std::regex_replace(encrypted_message(), std::regex("smime-type=enveloped-data"),
                                                 "smime-type=signed-data");

  EXPECT_TRUE(reception::check_encrypted_content(message).encrypted);
}

TEST_F(encrypted_content_test, OpensslSignedMessagesPass) {
  const std::string signer = "-signer " + pki("alice.cert.pem") + " -inkey " + pki("alice.key.pem");
  const std::string detached = openssl_message("-sign " + signer);
  const std::string opaque = openssl_message("-sign -nodetach " + signer);
  ASSERT_NE(detached.find("multipart/signed"), std::string::npos);
  ASSERT_NE(opaque.find("smime-type=signed-data"), std::string::npos);

  EXPECT_FALSE(reception::check_encrypted_content(detached).encrypted);
  EXPECT_FALSE(reception::check_encrypted_content(opaque).encrypted);
  EXPECT_FALSE(reception::check_encrypted_content(without_smime_type(opaque)).encrypted);
}

TEST_F(encrypted_content_test, CertsOnlyPasses) {
  const auto out = dir_->path() / "certs.p7c";
  const auto exported = run_command("openssl crl2pkcs7 -nocrl -certfile " + pki("alice.cert.pem") + " -outform DER -out " +
                                shell_quote(out.string()));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::string der = read_file(out);
  const std::string entity =
      mime::build_pkcs7_mime_entity(std::vector<uint8_t>(der.begin(), der.end()), "certs-only");

  EXPECT_FALSE(reception::check_encrypted_content(outer_header + entity).encrypted);
  EXPECT_FALSE(reception::check_encrypted_content(without_smime_type(outer_header + entity)).encrypted);
}

TEST_F(encrypted_content_test, OwnEncoderOutputIsEncrypted) {
  Botan::AutoSeeded_RNG rng;
  const Botan::X509_Certificate certificate = certs::load_certificate((dir_->path() / "pki/bob.cert.pem").string());
  cms::recipient recipient;
  recipient.certificate = &certificate;
  const cms::bytes content{'h', 'i', '\r', '\n'};

  for (const auto cipher : {cms::content_cipher::aes256_cbc, cms::content_cipher::aes128_gcm}) {
    const std::string smime_type = cms::is_authenticated(cipher) ? "authEnveloped-data" : "enveloped-data";
    SCOPED_TRACE(smime_type);
    const std::string entity = mime::build_pkcs7_mime_entity(cms::encrypt(content, {recipient}, cipher, rng), smime_type);

    EXPECT_TRUE(reception::check_encrypted_content(outer_header + entity).encrypted);
    EXPECT_TRUE(reception::check_encrypted_content(without_smime_type(outer_header + entity)).encrypted);
  }
}

TEST_F(encrypted_content_test, EncryptedAttachmentInsideMultipartPasses) {
  const std::string encrypted = encrypted_message();
  const std::string part = encrypted.substr(encrypted.find("MIME-Version"));
  const std::string message = outer_header +
                              "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
                              "--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
                              "--b1\r\n" + part + "\r\n--b1--\r\n";

  EXPECT_FALSE(reception::check_encrypted_content(message).encrypted);
}

TEST_F(encrypted_content_test, PlainMessagesPass) {
  for (const std::string& message :
       {outer_header + "\r\nHello.\r\n", outer_header + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n",
        std::string("Hello without any header\r\n"), std::string()}) {
    SCOPED_TRACE(message);
    EXPECT_FALSE(reception::check_encrypted_content(message).encrypted);
  }
}

TEST_F(encrypted_content_test, GarbageNeverThrows) {
  const std::string encrypted = encrypted_message();
  const std::string truncated = encrypted.substr(0, encrypted.find("\r\n\r\n") + 10);
  const std::vector<std::pair<std::string, bool>> cases = {
      // A pkcs7-mime body that is no CMS at all: nothing shows encryption.
      {outer_header + "Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
       false},
      {outer_header + "Content-Type: application/pkcs7-mime\r\n\r\n", false},
      {outer_header + "Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n\x30\x80",
       false},
      {outer_header + "Content-Type: application/pkcs7-mime\r\n\r\n" + std::string("\x30\x84\xff\xff\xff\xff\x06\x7f", 8),
       false},
      // Broken Content-Type syntax with an encrypted smime-type still counts as encrypted.
      {outer_header + "Content-Type: application/pkcs7-mime; smime-type=\"enveloped-data\r\n\r\nxx\r\n", true},
      {outer_header + "Content-Type: application/pkcs7-mime;; = ; smime-type = enveloped-data (c\r\n\r\n", true},
      {outer_header + "Content-Type: /\r\n\r\nbody\r\n", false},
      {outer_header + "Content-Type:\r\n\r\nbody\r\n", false},
      {"\r\n\r\n", false},
      {std::string("\0\0\0", 3), false},
      {truncated, true},
      {without_smime_type(truncated), false},
  };
  for (const auto& [message, encrypted] : cases) {
    SCOPED_TRACE(message.substr(0, 200));
    reception::encryption_check check;
    EXPECT_NO_THROW(check = reception::check_encrypted_content(message));
    EXPECT_EQ(check.encrypted, encrypted);
  }
}

} // namespace
} // namespace router::testing
