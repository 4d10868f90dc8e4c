#include "tests/fuzz/fuzz_identity.hpp"

#include <botan/chacha_rng.h>

namespace router::fuzzing {

namespace {

std::chrono::system_clock::time_point at_unix_seconds(int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

// 2025-01-01 to 2035-01-01 UTC.
const certs::validity_window window{at_unix_seconds(1735689600), at_unix_seconds(2051222400)};

std::unique_ptr<fuzz_pki> make_fuzz_pki() {
  static Botan::ChaCha_RNG rng(Botan::secure_vector<uint8_t>(32, 0x42));
  auto pki = std::make_unique<fuzz_pki>();
  pki->builder = std::make_unique<certs::pki_builder>(rng, "Fuzz Root CA", window);
  pki->signer = pki->builder->issue_email(pki->builder->root(), "Fuzz Signer", "signer@fuzz.example", window);
  pki->recipient = pki->builder->issue_email(pki->builder->root(), "Fuzz Recipient", "recipient@fuzz.example", window);
  // Issued last, so the fixed-seed RNG still gives the identities above the keys they had before.
  pki->ec_recipient = pki->builder->issue_email(pki->builder->root(), "Fuzz EC Recipient", "ec-recipient@fuzz.example",
                                                window, certs::key_type::ecdsa_p256);
  return pki;
}

} // namespace

const fuzz_pki& shared_fuzz_pki() {
  static const std::unique_ptr<fuzz_pki> pki = make_fuzz_pki();
  return *pki;
}

std::chrono::system_clock::time_point fuzz_time() {
  return at_unix_seconds(1780272000);  // 2026-06-01 UTC
}

} // namespace router::fuzzing
