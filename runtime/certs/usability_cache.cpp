#include "runtime/certs/usability_cache.hpp"

#include "runtime/certs/certs.hpp"

#include <botan/hash.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace router::certs {

namespace {

/// Feeds one signed X.509 object to the hash: its signed body and signature
/// identify it, with their lengths so two objects cannot run together.
void hash_object(Botan::HashFunction& hash, const Botan::X509_Object& object) {
  for (const std::vector<uint8_t>* part : {&object.signed_body(), &object.signature()}) {
    const uint64_t length = part->size();
    hash.update_be(length);
    hash.update(*part);
  }
}

std::array<uint8_t, 32> finish(Botan::HashFunction& hash) {
  std::array<uint8_t, 32> out{};
  hash.final(out.data());
  return out;
}

std::array<uint8_t, 32> certificate_digest(const Botan::X509_Certificate& certificate) {
  const auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash_object(*hash, certificate);
  return finish(*hash);
}

/// Returns a digest of everything in the trust store, in order, with the
/// count of each kind, so moving a certificate from anchors to intermediates
/// changes it.
std::array<uint8_t, 32> trust_digest(const trust_store& trust) {
  const auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update_be(static_cast<uint64_t>(trust.anchors.size()));
  for (const auto& anchor : trust.anchors)
    hash_object(*hash, anchor);
  hash->update_be(static_cast<uint64_t>(trust.intermediates.size()));
  for (const auto& intermediate : trust.intermediates)
    hash_object(*hash, intermediate);
  hash->update_be(static_cast<uint64_t>(trust.crls.size()));
  for (const auto& crl : trust.crls)
    hash_object(*hash, crl);
  return finish(*hash);
}

int64_t unix_seconds(time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

/// Returns floor(time) in Unix seconds, also for times before 1970.
int64_t floor_seconds(time_point time) {
  return std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count();
}

/// Returns every instant, in Unix seconds, at which a verdict for this
/// certificate under this trust store may change.
std::vector<int64_t> time_boundaries(const Botan::X509_Certificate& certificate, const trust_store& trust) {
  std::vector<int64_t> boundaries;
  const auto add_certificate = [&](const Botan::X509_Certificate& each) {
    boundaries.push_back(unix_seconds(not_before(each)));
    boundaries.push_back(unix_seconds(not_after(each)));
  };
  add_certificate(certificate);
  for (const auto& anchor : trust.anchors)
    add_certificate(anchor);
  for (const auto& intermediate : trust.intermediates)
    add_certificate(intermediate);
  for (const auto& crl : trust.crls) {
    boundaries.push_back(unix_seconds(from_asn1_time(crl.this_update())));
    if (crl.next_update().time_is_set())
      boundaries.push_back(unix_seconds(from_asn1_time(crl.next_update())));
  }
  return boundaries;
}

} // namespace

usability_verdict usability_cache::check(const Botan::X509_Certificate& certificate, purpose use,
                                         const std::string& address, const trust_store& trust,
                                         std::chrono::system_clock::time_point now) {
  entry_key key{certificate_digest(certificate), trust_digest(trust), use, address};
  const int64_t second = floor_seconds(now);

  const auto found = entries_.find(key);
  if (found != entries_.end() && found->second.first_second <= second && second <= found->second.last_second)
    return found->second.verdict;

  usability_verdict verdict = check_usability(certificate, use, address, trust, now);
  ++verdicts_computed_;

  // The verdict is correct for every second strictly between the nearest
  // boundaries around `second`. A boundary in this very second allows no reuse.
  int64_t first = std::numeric_limits<int64_t>::min();
  int64_t last = std::numeric_limits<int64_t>::max();
  for (const int64_t boundary : time_boundaries(certificate, trust)) {
    if (boundary == second)
      return verdict;
    if (boundary < second)
      first = std::max(first, boundary + 1);
    else
      last = std::min(last, boundary - 1);
  }

  if (found == entries_.end() && entries_.size() >= max_entries)
    entries_.clear();
  entries_[std::move(key)] = entry{verdict, first, last};
  return verdict;
}

} // namespace router::certs
