// Signatures made with a reused Botan signer (cms::signer_cache) are checked by
// `openssl cms -verify`: many messages from one cache, each padding of an RSA
// key, an ECDSA key, and several threads signing at once with a cache each.
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/cms/signer_cache.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/pkcs8.h>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>

namespace router::cms {
namespace {

using certs::issued_identity;
using certs::pki_builder;
using certs::to_pem;
using router::testing::command_result;
using router::testing::run_command;
using router::testing::scratch_dir;
using router::testing::shell_quote;
using router::testing::unix_seconds;
using router::testing::utc;
using router::testing::write_file;

const certs::validity_window ca_window{utc("2024-01-01T00:00:00Z"), utc("2034-01-01T00:00:00Z")};
const auto check_time = utc("2025-03-01T12:00:00Z");

bytes content_for(int thread, int message) {
  const std::string text = "Content-Type: text/plain\r\n\r\nmessage " + std::to_string(message) + " of thread " +
                           std::to_string(thread) + "\r\n";
  return bytes(text.begin(), text.end());
}

class signer_cache_interop_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    pki_ = new pki_builder(*rng_, "Signer Cache Test", ca_window);
    intermediate_ = new issued_identity(pki_->issue_intermediate("Signer Cache Mail CA", ca_window));
    rsa_ = new issued_identity(pki_->issue_email(*intermediate_, "Device", "device@example.com", ca_window));
    p256_ = new issued_identity(pki_->issue_email(*intermediate_, "Device P-256", "p256@example.com", ca_window,
                                                  certs::key_type::ecdsa_p256));
  }

  static void TearDownTestSuite() {
    for (issued_identity* identity : {p256_, rsa_, intermediate_})
      delete identity;
    delete pki_;
    delete rng_;
  }

  void SetUp() override { write_file(dir_ / "root.pem", to_pem(pki_->root().certificate)); }

  /// Returns a key the cache can own: a copy of the identity's key.
  static std::shared_ptr<const Botan::Private_Key> shared_key(const issued_identity& identity) {
    return std::shared_ptr<const Botan::Private_Key>(Botan::PKCS8::copy_key(*identity.private_key));
  }

  static signer_identity signer_of(const issued_identity& identity, const signer_cache& cache) {
    return {&identity.certificate, &cache.key(), {intermediate_->certificate}};
  }

  static signing_options options_with(rsa_signature_scheme scheme) {
    signing_options options;
    options.rsa_scheme = scheme;
    options.signing_time = check_time;
    return options;
  }

  /// Runs `openssl cms -verify` on a detached signature over `content`.
  command_result openssl_verify(const bytes& signature, const bytes& content, const std::string& name) const {
    const auto signature_file = dir_ / (name + ".der");
    const auto content_file = dir_ / (name + ".bin");
    write_file(signature_file, signature);
    write_file(content_file, content);
    return run_command("openssl cms -verify -inform DER -binary -in " + shell_quote(signature_file.string()) +
                       " -content " + shell_quote(content_file.string()) + " -CAfile " +
                       shell_quote((dir_ / "root.pem").string()) + " -purpose smimesign -attime " +
                       std::to_string(unix_seconds(check_time)) + " -out /dev/null");
  }

  static Botan::AutoSeeded_RNG* rng_;
  static pki_builder* pki_;
  static issued_identity* intermediate_;
  static issued_identity* rsa_;
  static issued_identity* p256_;
  scratch_dir dir_;
};

Botan::AutoSeeded_RNG* signer_cache_interop_test::rng_ = nullptr;
pki_builder* signer_cache_interop_test::pki_ = nullptr;
issued_identity* signer_cache_interop_test::intermediate_ = nullptr;
issued_identity* signer_cache_interop_test::rsa_ = nullptr;
issued_identity* signer_cache_interop_test::p256_ = nullptr;

TEST_F(signer_cache_interop_test, ReusedRsaSignerVerifies) {
  Botan::AutoSeeded_RNG rng;
  signer_cache cache(shared_key(*rsa_), rng);

  // More messages than Botan 2's blinding re-initialisation interval (64
  // uses), so signatures after a refresh of the blinding factor are checked too.
  for (int message = 0; message < 70; ++message) {
    SCOPED_TRACE("message " + std::to_string(message));
    const bytes content = content_for(0, message);

    const bytes signature = sign(content, signer_of(*rsa_, cache), options_with(rsa_signature_scheme::pkcs1v15), cache);

    if (message % 10 == 0 || message >= 62) {
      const auto result = openssl_verify(signature, content, "rsa");
      EXPECT_EQ(result.exit_code, 0) << result.output;
    }
  }
  EXPECT_EQ(cache.signers_made(), 1u);
}

TEST_F(signer_cache_interop_test, EachRsaSchemeGetsItsOwnSigner) {
  Botan::AutoSeeded_RNG rng;
  signer_cache cache(shared_key(*rsa_), rng);

  for (int round = 0; round < 2; ++round) {
    for (const auto scheme : {rsa_signature_scheme::pkcs1v15, rsa_signature_scheme::pss}) {
      const std::string name = scheme == rsa_signature_scheme::pss ? "pss" : "pkcs1v15";
      SCOPED_TRACE(name + " round " + std::to_string(round));
      const bytes content = content_for(round, 0);

      const bytes signature = sign(content, signer_of(*rsa_, cache), options_with(scheme), cache);
      const auto result = openssl_verify(signature, content, name);

      EXPECT_EQ(result.exit_code, 0) << result.output;
    }
  }
  EXPECT_EQ(cache.signers_made(), 2u);
}

TEST_F(signer_cache_interop_test, ReusedEcdsaSignerVerifies) {
  Botan::AutoSeeded_RNG rng;
  signer_cache cache(shared_key(*p256_), rng);

  for (int message = 0; message < 3; ++message) {
    SCOPED_TRACE("message " + std::to_string(message));
    const bytes content = content_for(0, message);

    const bytes signature = sign(content, signer_of(*p256_, cache), options_with(rsa_signature_scheme::pkcs1v15), cache);
    const auto result = openssl_verify(signature, content, "p256");

    EXPECT_EQ(result.exit_code, 0) << result.output;
  }
}

TEST_F(signer_cache_interop_test, CacheOfAnotherKeyIsRejected) {
  Botan::AutoSeeded_RNG rng;
  signer_cache cache(shared_key(*p256_), rng);
  const signer_identity rsa_signer{&rsa_->certificate, rsa_->private_key.get(), {intermediate_->certificate}};

  EXPECT_THROW(sign(content_for(0, 0), rsa_signer, options_with(rsa_signature_scheme::pkcs1v15), cache),
               std::invalid_argument);
}

TEST_F(signer_cache_interop_test, ThreadsWithOwnCachesSignAtOnce) {
  constexpr int thread_count = 4;
  constexpr int messages_per_thread = 6;
  const auto key = shared_key(*rsa_);
  std::vector<std::vector<bytes>> signatures(thread_count);
  std::vector<std::string> errors(thread_count);

  std::vector<std::thread> threads;
  for (int thread = 0; thread < thread_count; ++thread) {
    threads.emplace_back([&, thread] {
      try {
        Botan::AutoSeeded_RNG rng;
        signer_cache cache(key, rng);
        for (int message = 0; message < messages_per_thread; ++message)
          signatures[thread].push_back(sign(content_for(thread, message), signer_of(*rsa_, cache),
                                            options_with(rsa_signature_scheme::pkcs1v15), cache));
      } catch (const std::exception& error) {
        errors[thread] = error.what();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();

  for (int thread = 0; thread < thread_count; ++thread) {
    ASSERT_EQ(errors[thread], "") << "thread " << thread;
    ASSERT_EQ(signatures[thread].size(), static_cast<size_t>(messages_per_thread));
    for (int message = 0; message < messages_per_thread; ++message) {
      SCOPED_TRACE("thread " + std::to_string(thread) + " message " + std::to_string(message));
      const auto result = openssl_verify(signatures[thread][message], content_for(thread, message), "threaded");
      EXPECT_EQ(result.exit_code, 0) << result.output;
    }
  }
}

} // namespace
} // namespace router::cms
