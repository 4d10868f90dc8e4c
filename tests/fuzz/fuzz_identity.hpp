// A tiny PKI that the fuzz targets and the seed writer make identically.
// Every key and serial number comes from a ChaCha RNG with a fixed seed. So
// seeds encrypted for the recipient decrypt inside the fuzz targets, and the
// mutations reach the content decryption code.
#pragma once

#include "runtime/certs/pki_builder.hpp"

#include <chrono>
#include <memory>

namespace router::fuzzing {

struct fuzz_pki {
  std::unique_ptr<certs::pki_builder> builder;
  certs::issued_identity signer;     // RSA, issued by the root
  certs::issued_identity recipient;  // RSA, issued by the root
  certs::issued_identity ec_recipient;  // P-256, issued by the root, for KeyAgreeRecipientInfo
};

/// Returns the PKI, made on first use from the fixed seed.
const fuzz_pki& shared_fuzz_pki();

/// Returns the time at which the fuzz targets validate certificates.
std::chrono::system_clock::time_point fuzz_time();

} // namespace router::fuzzing
