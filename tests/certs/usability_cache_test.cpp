// The verdict cache returns the same verdict as check_usability() at every time
// it is asked, and reuses a verdict only while it is correct: crossing a notAfter,
// a notBefore or a CRL's nextUpdate, or changing the CRLs, is judged afresh.
#include "runtime/certs/usability_cache.hpp"

#include "runtime/certs/pki_builder.hpp"
#include "tests/common/test_support.hpp"

#include <botan/auto_rng.h>
#include <botan/x509_ca.h>
#include <gtest/gtest.h>

namespace router::testing {
namespace {

using certs::purpose;
using certs::usability;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class usability_cache_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG();
    pki_ = new certs::pki_builder(*rng_, "Verdict Cache Test Root", long_window());
    intermediate_ = new certs::issued_identity(pki_->issue_intermediate("Verdict Cache Test CA", long_window()));
    alice_ = new certs::issued_identity(
        pki_->issue_email(*intermediate_, "Alice", "alice@example.com", {utc("2026-01-01T00:00:00Z"), alice_end()}));
  }

  static void TearDownTestSuite() {
    delete alice_;
    delete intermediate_;
    delete pki_;
    delete rng_;
  }

  static certs::validity_window long_window() { return {utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")}; }

  /// Alice's notAfter.
  static std::chrono::system_clock::time_point alice_end() { return utc("2026-07-01T00:00:00Z"); }

  static certs::trust_store trust() {
    certs::trust_store store;
    store.anchors.push_back(pki_->root().certificate);
    store.intermediates.push_back(intermediate_->certificate);
    return store;
  }

  /// Returns a trust store with a CRL of the intermediate, issued at `issued`
  /// and valid for `lifetime`, that revokes Alice when `revoke_alice` is set.
  static certs::trust_store trust_with_crl(bool revoke_alice, std::chrono::system_clock::time_point issued,
                                           hours lifetime) {
    Botan::X509_CA ca(intermediate_->certificate, *intermediate_->private_key, "SHA-256", *rng_);
    Botan::X509_CRL crl = ca.new_crl(*rng_, issued, lifetime);
    if (revoke_alice) {
      const Botan::CRL_Entry entry(alice_->certificate, Botan::CRL_Code::KEY_COMPROMISE);
      crl = ca.update_crl(crl, {entry}, *rng_, issued, lifetime);
    }
    certs::trust_store store = trust();
    store.crls.push_back(crl);
    return store;
  }

  /// Asks the cache and checks its verdict against check_usability() at the same time.
  static certs::usability_verdict check(certs::usability_cache& cache, const certs::trust_store& store,
                                        std::chrono::system_clock::time_point now,
                                        const std::string& address = "alice@example.com") {
    const auto cached = cache.check(alice_->certificate, purpose::encrypt, address, store, now);
    const auto fresh = certs::check_usability(alice_->certificate, purpose::encrypt, address, store, now);
    EXPECT_EQ(cached.state, fresh.state) << "cached: " << cached.detail << "; fresh: " << fresh.detail;
    EXPECT_EQ(cached.detail, fresh.detail);
    return cached;
  }

  static Botan::AutoSeeded_RNG* rng_;
  static certs::pki_builder* pki_;
  static certs::issued_identity* intermediate_;
  static certs::issued_identity* alice_;
};

Botan::AutoSeeded_RNG* usability_cache_test::rng_ = nullptr;
certs::pki_builder* usability_cache_test::pki_ = nullptr;
certs::issued_identity* usability_cache_test::intermediate_ = nullptr;
certs::issued_identity* usability_cache_test::alice_ = nullptr;

TEST_F(usability_cache_test, ReusesVerdictWithinWindow) {
  certs::usability_cache cache;
  const auto store = trust();

  const auto first = check(cache, store, utc("2026-06-01T00:00:00Z"));
  const auto second = check(cache, store, utc("2026-06-15T08:30:00Z"));

  EXPECT_EQ(first.state, usability::usable) << first.detail;
  EXPECT_EQ(second.state, usability::usable) << second.detail;
  EXPECT_EQ(cache.verdicts_computed(), 1u);
}

TEST_F(usability_cache_test, ClockCrossingNotAfterExpires) {
  certs::usability_cache cache;
  const auto store = trust();

  const auto before = check(cache, store, alice_end() - hours(1));
  const auto after = check(cache, store, alice_end() + seconds(1));
  const auto back = check(cache, store, alice_end() - hours(2));

  EXPECT_EQ(before.state, usability::usable) << before.detail;
  EXPECT_EQ(after.state, usability::expired) << after.detail;
  EXPECT_EQ(back.state, usability::usable) << back.detail;
  EXPECT_EQ(cache.verdicts_computed(), 3u);
}

TEST_F(usability_cache_test, SecondOfNotAfterIsNeverReused) {
  certs::usability_cache cache;
  const auto store = trust();

  // notAfter itself is still valid, half a second later is expired for
  // check_validity(), though Botan compares whole seconds.
  const auto on_boundary = check(cache, store, alice_end());
  const auto half_second_later = check(cache, store, alice_end() + milliseconds(500));

  EXPECT_EQ(on_boundary.state, usability::usable) << on_boundary.detail;
  EXPECT_EQ(half_second_later.state, usability::expired) << half_second_later.detail;
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(usability_cache_test, ClockCrossingNotBeforeMakesUsable) {
  certs::usability_cache cache;
  const auto store = trust();

  const auto early = check(cache, store, utc("2025-12-31T23:00:00Z"));
  const auto valid = check(cache, store, utc("2026-01-01T00:00:01Z"));

  EXPECT_EQ(early.state, usability::not_yet_valid) << early.detail;
  EXPECT_EQ(valid.state, usability::usable) << valid.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

TEST_F(usability_cache_test, RevokingCrlChangesVerdict) {
  certs::usability_cache cache;
  const auto now = utc("2026-06-01T00:00:00Z");
  const auto without_crl = trust();
  const auto revoking = trust_with_crl(true, now - hours(24), hours(24 * 30));

  const auto usable = check(cache, without_crl, now);
  const auto revoked = check(cache, revoking, now + seconds(10));
  const auto usable_again = check(cache, without_crl, now + seconds(20));

  EXPECT_EQ(usable.state, usability::usable) << usable.detail;
  EXPECT_EQ(revoked.state, usability::revoked) << revoked.detail;
  EXPECT_EQ(usable_again.state, usability::usable) << usable_again.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

TEST_F(usability_cache_test, ClockCrossingCrlNextUpdateIsJudgedAgain) {
  certs::usability_cache cache;
  const auto issued = utc("2026-06-01T00:00:00Z");
  const auto store = trust_with_crl(false, issued, hours(24));

  const auto current = check(cache, store, issued + hours(1));
  const auto stale = check(cache, store, issued + hours(25));

  // A CRL past its nextUpdate fails Botan's path validation.
  EXPECT_EQ(current.state, usability::usable) << current.detail;
  EXPECT_NE(stale.state, usability::usable) << stale.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

TEST_F(usability_cache_test, EachAddressIsJudgedSeparately) {
  certs::usability_cache cache;
  const auto store = trust();
  const auto now = utc("2026-06-01T00:00:00Z");

  const auto matching = check(cache, store, now);
  const auto other = check(cache, store, now, "mallory@example.com");

  EXPECT_EQ(matching.state, usability::usable) << matching.detail;
  EXPECT_EQ(other.state, usability::address_mismatch) << other.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

TEST_F(usability_cache_test, EachPurposeIsJudgedSeparately) {
  certs::usability_cache cache;
  const auto store = trust();
  const auto now = utc("2026-06-01T00:00:00Z");

  const auto encrypt = cache.check(alice_->certificate, purpose::encrypt, "alice@example.com", store, now);
  const auto sign = cache.check(alice_->certificate, purpose::sign, "alice@example.com", store, now);

  EXPECT_EQ(encrypt.state, usability::usable) << encrypt.detail;
  EXPECT_EQ(sign.state, usability::usable) << sign.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

TEST_F(usability_cache_test, ExpiringIntermediateBoundsWindow) {
  certs::usability_cache cache;
  const auto intermediate_end = utc("2026-03-01T00:00:00Z");
  const auto short_ca = pki_->issue_intermediate("Short CA", {utc("2025-01-01T00:00:00Z"), intermediate_end});
  const auto bob = pki_->issue_email(short_ca, "Bob", "bob@example.com", long_window());
  certs::trust_store store;
  store.anchors.push_back(pki_->root().certificate);
  store.intermediates.push_back(short_ca.certificate);

  const auto before = cache.check(bob.certificate, purpose::encrypt, "bob@example.com", store,
                                  intermediate_end - hours(1));
  const auto after = cache.check(bob.certificate, purpose::encrypt, "bob@example.com", store,
                                 intermediate_end + hours(1));

  EXPECT_EQ(before.state, usability::usable) << before.detail;
  EXPECT_EQ(after.state, usability::expired) << after.detail;
  EXPECT_EQ(cache.verdicts_computed(), 2u);
}

} // namespace
} // namespace router::testing
