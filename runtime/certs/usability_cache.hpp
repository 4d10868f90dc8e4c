// Verdicts of check_usability() kept for reuse while they are provably still correct.
//
// Path validation with Botan costs far more than the rest of a verdict, and a
// router judges the same few certificates for every message. A verdict
// depends on the certificate, the purpose, the address, the trust store
// (anchors, intermediates, CRLs) and the time. The time matters only through
// the notBefore and notAfter of the certificate and of every certificate in
// the trust store, and the thisUpdate and nextUpdate of every CRL. Between two
// such instants every check, Botan's included, gives the same result, so a
// cached verdict is reused only for a time strictly between the same two
// instants, and only for an identical certificate and trust store. A time that
// falls in the same second as one of the instants is always judged afresh,
// because Botan compares whole seconds while check_validity() does not.
//
// Not thread-safe: each thread keeps its own cache.
#pragma once

#include "runtime/certs/usability.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

namespace router::certs {

class usability_cache {
 public:
  /// Entries kept at most; the cache is emptied when a new entry would exceed it.
  static constexpr size_t max_entries = 4096;

  /// Returns check_usability(certificate, use, address, trust, now), reusing
  /// an earlier verdict when it is provably still correct at `now`.
  usability_verdict check(const Botan::X509_Certificate& certificate, purpose use, const std::string& address,
                          const trust_store& trust, std::chrono::system_clock::time_point now);

  /// Returns how many verdicts were computed by check_usability() so far, not
  /// taken from the cache.
  uint64_t verdicts_computed() const { return verdicts_computed_; }

  size_t size() const { return entries_.size(); }

 private:
  using digest = std::array<uint8_t, 32>;  // SHA-256
  using entry_key = std::tuple<digest, digest, purpose, std::string>;  // certificate, trust store, purpose, address

  struct entry {
    usability_verdict verdict;
    int64_t first_second = 0;  // Unix seconds: the verdict is correct from the start of this second
    int64_t last_second = 0;   // to the end of this one
  };

  std::map<entry_key, entry> entries_;
  uint64_t verdicts_computed_ = 0;
};

} // namespace router::certs
