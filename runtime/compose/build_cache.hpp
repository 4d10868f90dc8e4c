// State that build_for_destination() reuses across the messages of one
// thread: a signer for the device key, the certificate verdicts and the
// loaded public keys of recipient certificates.
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

#include <map>
#include <memory>
#include <optional>
#include <vector>

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

  /// Returns the public key of a recipient certificate, loaded on first use.
  /// Loading an RSA key costs a constant-time division, more than encrypting
  /// with it. Throws what Botan throws for a key it cannot load.
  const Botan::Public_Key& recipient_key(const Botan::X509_Certificate& certificate);

 private:
  std::shared_ptr<const config::loaded_config> config_;
  Botan::RandomNumberGenerator& rng_;
  certs::usability_cache verdicts_;
  std::optional<cms::signer_cache> device_signers_;

  struct loaded_key {
    Botan::X509_Certificate certificate;
    std::unique_ptr<Botan::Public_Key> key;
  };
  // By certificate signature; a hit is checked against the whole certificate.
  std::map<std::vector<uint8_t>, loaded_key> recipient_keys_;
};

} // namespace router::compose
