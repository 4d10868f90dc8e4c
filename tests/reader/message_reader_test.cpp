// Whole messages from our own builders (CMS encoder and MIME builders) read
// back through the message reader that `smime-router verify` and `decrypt` use.
#include "runtime/cli/message_reader.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/common/test_pki.hpp"
#include "tests/reader/reader_test_pki.hpp"

#include <gtest/gtest.h>

namespace router::cli {
namespace {

using router::testing::reference_time;
using router::testing::shared_reader_pki;
using router::testing::signer_of;

class message_reader_test : public ::testing::Test {
 protected:
  router::testing::reader_pki& pki_ = shared_reader_pki();
  const std::string document_ = mime::build_document_entity("Scanned report\r\npage 1", {}, "doc-boundary");

  cms::verify_options trusting_root() const {
    cms::verify_options options;
    options.trust_anchors = {pki_.root()};
    options.validation_time = reference_time();
    return options;
  }

  std::string wrap(const std::string& entity) const {
    return mime::build_message({"router@device.example.com", {"bob@example.com"}, "Scan",
                                mime::format_date(1780000000), "<reader@example.com>"},
                               entity);
  }

  std::string signed_message(bool detached) {
    cms::signing_options options;
    options.detached = detached;
    options.signing_time = reference_time();
    const cms::bytes content(document_.begin(), document_.end());
    const cms::bytes der = cms::sign(content, signer_of(pki_.rsa_signer), options, pki_.rng);
    if (detached)
      return wrap(mime::build_signed_entity(document_, der, "sha-256", "signed-boundary"));
    return wrap(mime::build_pkcs7_mime_entity(der, "signed-data"));
  }

  std::string encrypted_message(const std::string& inner, cms::content_cipher cipher) {
    const cms::bytes der = cms::encrypt(cms::bytes(inner.begin(), inner.end()), {{&pki_.alice.certificate}}, cipher,
                                        pki_.rng);
    return wrap(mime::build_pkcs7_mime_entity(der, cms::is_authenticated(cipher) ? "authEnveloped-data"
                                                                                 : "enveloped-data"));
  }
};

TEST_F(message_reader_test, SignedMessagesVerify) {
  for (const bool detached : {true, false}) {
    SCOPED_TRACE(detached ? "multipart/signed" : "signed-data");

    const cms::verify_result result = verify_message(signed_message(detached), trusting_root());

    EXPECT_EQ(cms::to_string(result.status), "ok") << result.detail;
    EXPECT_EQ(std::string(result.content.begin(), result.content.end()), document_);
  }
}

TEST_F(message_reader_test, ChangedSignedTextIsDigestMismatch) {
  std::string message = signed_message(true);
  const auto found = message.find("page 1");
  ASSERT_NE(found, std::string::npos);
  message[found + 5] = '2';

  EXPECT_EQ(cms::to_string(verify_message(message, trusting_root()).status), "digest_mismatch");
}

TEST_F(message_reader_test, BareLineFeedsAreCanonicalized) {
  std::string message = signed_message(true);
  std::string stored;
  for (const char c : message) {
    if (c != '\r')
      stored += c;
  }

  EXPECT_EQ(cms::to_string(verify_message(stored, trusting_root()).status), "ok");
}

TEST_F(message_reader_test, SignedThenEncryptedRoundTrip) {
  for (const cms::content_cipher cipher : {cms::content_cipher::aes256_cbc, cms::content_cipher::aes256_gcm}) {
    const std::string signed_entity = signed_message(true);
    const std::string message = encrypted_message(signed_entity, cipher);

    const cms::decrypt_result decrypted =
        decrypt_message(message, *pki_.alice.private_key, pki_.alice.certificate, pki_.rng);
    ASSERT_EQ(cms::to_string(decrypted.status), "ok") << decrypted.detail;
    const std::string inner(decrypted.content.begin(), decrypted.content.end());
    EXPECT_EQ(inner, signed_entity);

    EXPECT_EQ(cms::to_string(verify_message(inner, trusting_root()).status), "ok");
  }
}

TEST_F(message_reader_test, EncryptedMessageIsNotVerified) {
  const cms::verify_result result =
      verify_message(encrypted_message(document_, cms::content_cipher::aes128_cbc), trusting_root());

  EXPECT_EQ(cms::to_string(result.status), "malformed");
  EXPECT_NE(result.detail.find("decrypt"), std::string::npos) << result.detail;
}

TEST_F(message_reader_test, SignedMessageIsNotDecrypted) {
  const cms::decrypt_result result =
      decrypt_message(signed_message(false), *pki_.alice.private_key, pki_.alice.certificate, pki_.rng);

  EXPECT_EQ(cms::to_string(result.status), "malformed");
}

TEST_F(message_reader_test, PlainMessageHasNoSignature) {
  const cms::verify_result result = verify_message(wrap(document_), trusting_root());

  EXPECT_EQ(cms::to_string(result.status), "malformed");
  EXPECT_NE(result.detail.find("no S/MIME entity"), std::string::npos) << result.detail;
}

TEST_F(message_reader_test, BrokenMimeIsMalformed) {
  EXPECT_EQ(cms::to_string(verify_message("not a header\r\n\r\n", trusting_root()).status), "malformed");
  EXPECT_EQ(cms::to_string(decrypt_message("Content-Type: application/pkcs7-mime\r\n"
                                           "Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
                                           *pki_.alice.private_key, pki_.alice.certificate, pki_.rng)
                               .status),
            "malformed");
}

} // namespace
} // namespace router::cli
