#include "runtime/compose/build_cache.hpp"

#include <stdexcept>

namespace router::compose {

build_cache::build_cache(std::shared_ptr<const config::loaded_config> config, Botan::RandomNumberGenerator& rng)
    : config_(std::move(config)), rng_(rng) {
  if (!config_)
    throw std::invalid_argument("build_cache needs a config, but the config is null");
  if (config_->device_key)
    device_signers_.emplace(config_->device_key, rng_);
}

const Botan::Public_Key& build_cache::recipient_key(const Botan::X509_Certificate& certificate) {
  // The address book bounds the entries in practice. The map is emptied if something feeds it far more.
  constexpr size_t max_keys = 4096;
  const auto found = recipient_keys_.find(certificate.signature());
  if (found != recipient_keys_.end() && found->second.certificate == certificate)
    return *found->second.key;

  auto key = certificate.load_subject_public_key();
  if (recipient_keys_.size() >= max_keys)
    recipient_keys_.clear();
  auto& slot = recipient_keys_[certificate.signature()];
  slot = loaded_key{certificate, std::move(key)};
  return *slot.key;
}

} // namespace router::compose
