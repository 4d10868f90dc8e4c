// State that build_for_destination() reuses across the messages of one
// thread: a signer for the device key and the certificate verdicts.
//
// Reuse never changes a result. Each certificate is still judged for the
// `now` of each build, and a verdict is reused only while it is provably correct
// (see runtime/certs/usability_cache.hpp). Signatures come from the same key
// and scheme as without a cache.
#pragma once

#include "runtime/certs/usability_cache.hpp"
#include "runtime/cms/signer_cache.hpp"
#include "runtime/config/config.hpp"

#include <botan/rng.h>

#include <memory>
#include <optional>

namespace router::compose {

/// Not thread-safe: each crypto worker keeps its own.
class build_cache {
 public:
  /// Makes a cache for builds with `config` and `rng`; both must outlive it,
  /// and the cache keeps `config` alive itself.
  build_cache(std::shared_ptr<const config::loaded_config> config, Botan::RandomNumberGenerator& rng);

  build_cache(const build_cache&) = delete;
  build_cache& operator=(const build_cache&) = delete;

  const config::loaded_config& config() const { return *config_; }
  Botan::RandomNumberGenerator& rng() { return rng_; }
  certs::usability_cache& verdicts() { return verdicts_; }

  /// Returns the signer cache of the device key, or nullptr when no device key is configured.
  cms::signer_cache* device_signers() { return device_signers_ ? &*device_signers_ : nullptr; }

 private:
  std::shared_ptr<const config::loaded_config> config_;
  Botan::RandomNumberGenerator& rng_;
  certs::usability_cache verdicts_;
  std::optional<cms::signer_cache> device_signers_;
};

} // namespace router::compose
