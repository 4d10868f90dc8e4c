// The random number generator each crypto worker owns: Botan's ChaCha_RNG,
// seeded from the operating system's generator and reseeded from it after
// every 1024 requests (Botan's default). It supplies RSA blinding, content
// keys, IVs, MIME boundaries and Message-IDs.
//
// AutoSeeded_RNG (HMAC_DRBG over SHA-512) mixes a timestamp into every
// request and rekeys twice per request. For a signed 4 KiB message that took
// about 5% of the router's CPU time. Like any Botan RNG object it is not
// shared between threads, so each worker has its own.
#pragma once

#include <botan/chacha_rng.h>
#include <botan/system_rng.h>

#include <memory>

namespace router::cms {

using worker_rng = Botan::ChaCha_RNG;

/// Returns a new worker RNG seeded from the operating system's generator.
inline std::unique_ptr<worker_rng> make_worker_rng() {
  return std::make_unique<worker_rng>(Botan::system_rng());
}

} // namespace router::cms
