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

} // namespace router::compose
