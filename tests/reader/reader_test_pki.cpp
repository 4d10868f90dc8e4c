#include "tests/reader/reader_test_pki.hpp"

#include "tests/common/test_pki.hpp"

namespace router::testing {

namespace {

using certs::key_type;

const certs::validity_window long_window{utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")};
const certs::validity_window past_window{utc("2024-01-01T00:00:00Z"), utc("2025-01-01T00:00:00Z")};
const certs::validity_window future_window{utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z")};

std::unique_ptr<reader_pki> make_pki() {
  auto pki = std::make_unique<reader_pki>();
  pki->builder = std::make_unique<certs::pki_builder>(pki->rng, "Reader Test Root CA", long_window);
  pki->other_builder = std::make_unique<certs::pki_builder>(pki->rng, "Unknown Root CA", long_window);
  certs::pki_builder& ca = *pki->builder;

  pki->intermediate = ca.issue_intermediate("Reader Test Mail CA", long_window);
  const auto& issuer = pki->intermediate;
  pki->rsa_signer = ca.issue_email(issuer, "Device RSA", "rsa@device.example.com", long_window);
  pki->p256_signer = ca.issue_email(issuer, "Device P-256", "p256@device.example.com", long_window, key_type::ecdsa_p256);
  pki->p384_signer = ca.issue_email(issuer, "Device P-384", "p384@device.example.com", long_window, key_type::ecdsa_p384);
  pki->ed25519_signer =
      ca.issue_email(issuer, "Device Ed25519", "ed25519@device.example.com", long_window, key_type::ed25519);
  pki->expired_signer = ca.issue_email(issuer, "Old Device", "old@device.example.com", past_window);
  pki->not_yet_valid_signer = ca.issue_email(issuer, "New Device", "new@device.example.com", future_window);
  pki->untrusted_signer = pki->other_builder->issue_email(pki->other_builder->root(), "Stranger",
                                                          "stranger@example.net", long_window);
  pki->alice = ca.issue_email(issuer, "Alice", "alice@example.com", long_window);
  pki->bob = ca.issue_email(issuer, "Bob", "bob@example.com", long_window, key_type::rsa_3072);
  return pki;
}

} // namespace

reader_pki& shared_reader_pki() {
  static const std::unique_ptr<reader_pki> pki = make_pki();
  return *pki;
}

cms::signer_identity signer_of(const certs::issued_identity& identity, bool with_intermediate) {
  cms::signer_identity signer{&identity.certificate, identity.private_key.get(), {}};
  if (with_intermediate)
    signer.intermediates.push_back(shared_reader_pki().intermediate.certificate);
  return signer;
}

cms::bytes to_bytes(const std::string& text) {
  return cms::bytes(text.begin(), text.end());
}

} // namespace router::testing
