// SignedData checked by gpgsm (GnuPG's S/MIME tool), a second independent
// CMS implementation. Each test uses a throwaway GNUPGHOME that trusts only the
// test root (trustlist.txt), with CRL checks off and the clock faked to a fixed
// time. Only the root is imported, so the intermediate must come from the
// message. The gpg-agent that gpgsm starts is stopped in TearDown. Written
// against gpgsm 2.2.40 and skipped when gpgsm is not installed.
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>

#include <gtest/gtest.h>

namespace router::cms {
namespace {

using certs::issued_identity;
using certs::key_type;
using certs::pki_builder;
using certs::to_pem;
using certs::validity_window;
using router::testing::command_result;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::utc;
using router::testing::write_file;

const validity_window ca_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const auto signing_time = utc("2025-03-01T12:00:00Z");
const std::string faked_time = "20250301T120000";

const std::string text = "Content-Type: text/plain\r\n\r\nscan page 1\r\n";
const bytes content(text.begin(), text.end());

class gpgsm_interop_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Gpgsm Test", ca_window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Gpgsm Test Mail CA", ca_window));
    rsa_signer_ = new issued_identity(pki_->issue_email(*intermediate_, "Device", "device@example.com", ca_window));
    ec_signer_ = new issued_identity(
        pki_->issue_email(*intermediate_, "Device EC", "device-ec@example.com", ca_window, key_type::ecdsa_p256));
  }

  static void TearDownTestSuite() {
    delete ec_signer_;
    delete rsa_signer_;
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  void SetUp() override {
    if (run_command("gpgsm --version").exit_code != 0)
      GTEST_SKIP() << "gpgsm is not installed";

    std::filesystem::create_directory(home());
    std::filesystem::permissions(home(), std::filesystem::perms::owner_all);
    write_file(home() / "gpgsm.conf", std::string("disable-crl-checks\n"));
    write_file(dir_ / "root.pem", to_pem(pki_->root().certificate));
    write_file(dir_ / "content.bin", content);

    const auto imported = gpgsm("--import " + quoted("root.pem"));
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    trust_root();
  }

  void TearDown() override {
    if (std::filesystem::exists(home()))
      run_command("GNUPGHOME=" + shell_quote(home().string()) + " gpgconf --kill gpg-agent");
  }

  std::filesystem::path home() const { return dir_ / "gnupg"; }

  std::string quoted(const std::string& name) const { return shell_quote((dir_ / name).string()); }

  /// Runs gpgsm in the throwaway home at the faked time, with status lines on stdout.
  command_result gpgsm(const std::string& arguments) const {
    return run_command("GNUPGHOME=" + shell_quote(home().string()) + " gpgsm --batch --status-fd 1 --faked-system-time " +
                       faked_time + " " + arguments);
  }

  /// Marks the root as a trusted S/MIME root through trustlist.txt.
  void trust_root() const {
    const std::string fingerprint = pki_->root().certificate.fingerprint("SHA-1");  // "AB:CD:..."
    write_file(home() / "trustlist.txt", fingerprint + " S\n");
  }

  static signer_identity signer_of(const issued_identity& identity) {
    return {&identity.certificate, identity.private_key.get(), {intermediate_->certificate}};
  }

  static signing_options options_for(digest_algorithm digest, bool detached) {
    signing_options options;
    options.digest = digest;
    options.detached = detached;
    options.signing_time = signing_time;
    return options;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  static issued_identity* rsa_signer_;
  static issued_identity* ec_signer_;
  scratch_dir dir_;
};

Botan::AutoSeeded_RNG* gpgsm_interop_test::rng_ = nullptr;
pki_builder* gpgsm_interop_test::pki_ = nullptr;
issued_identity* gpgsm_interop_test::intermediate_ = nullptr;
issued_identity* gpgsm_interop_test::rsa_signer_ = nullptr;
issued_identity* gpgsm_interop_test::ec_signer_ = nullptr;

TEST_F(gpgsm_interop_test, DetachedRsaSignaturesVerify) {
  for (const auto digest : {digest_algorithm::sha256, digest_algorithm::sha384, digest_algorithm::sha512}) {
    SCOPED_TRACE(micalg_name(digest));
    write_file(dir_ / "signature.der", sign(content, signer_of(*rsa_signer_), options_for(digest, true), *rng_));

    const auto result = gpgsm("--verify " + quoted("signature.der") + " " + quoted("content.bin"));

    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("[GNUPG:] GOODSIG"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("[GNUPG:] VALIDSIG"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("[GNUPG:] TRUST_FULLY"), std::string::npos) << result.output;
  }
}

TEST_F(gpgsm_interop_test, EncapsulatedSignatureVerifies) {
  write_file(dir_ / "signed.der",
             sign(content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha256, false), *rng_));

  const auto result = gpgsm("--verify --output " + quoted("verified.bin") + " " + quoted("signed.der"));

  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("[GNUPG:] GOODSIG"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("[GNUPG:] TRUST_FULLY"), std::string::npos) << result.output;
  EXPECT_EQ(router::testing::read_file(dir_ / "verified.bin"), text);
}

TEST_F(gpgsm_interop_test, DetachedEcdsaSignatureVerifies) {
  write_file(dir_ / "signature.der",
             sign(content, signer_of(*ec_signer_), options_for(digest_algorithm::sha256, true), *rng_));

  const auto result = gpgsm("--verify " + quoted("signature.der") + " " + quoted("content.bin"));

  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("[GNUPG:] GOODSIG"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("[GNUPG:] TRUST_FULLY"), std::string::npos) << result.output;
}

TEST_F(gpgsm_interop_test, TamperedContentIsBadSignature) {
  write_file(dir_ / "signature.der",
             sign(content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha256, true), *rng_));
  write_file(dir_ / "content.bin", text + "extra line\r\n");

  const auto result = gpgsm("--verify " + quoted("signature.der") + " " + quoted("content.bin"));

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("[GNUPG:] BADSIG"), std::string::npos) << result.output;
}

TEST_F(gpgsm_interop_test, UntrustedRootIsNotFullyTrusted) {
  write_file(home() / "trustlist.txt", std::string());
  write_file(dir_ / "signature.der",
             sign(content, signer_of(*rsa_signer_), options_for(digest_algorithm::sha256, true), *rng_));

  const auto result = gpgsm("--verify " + quoted("signature.der") + " " + quoted("content.bin"));

  EXPECT_EQ(result.output.find("[GNUPG:] TRUST_FULLY"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("[GNUPG:] TRUST_UNDEFINED"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("root certificate is not marked trusted"), std::string::npos) << result.output;
}

} // namespace
} // namespace router::cms
