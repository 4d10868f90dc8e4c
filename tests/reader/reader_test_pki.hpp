// A PKI for the reader tests, made once per test program with fixed validity
// windows around reference_time(). It has a trusted root and intermediate,
// signers with every key type the verifier handles, signers outside their
// validity at reference_time(), two RSA recipients and a second, untrusted root.
#pragma once

#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"

#include <botan/auto_rng.h>

#include <memory>
#include <string>

namespace router::testing {

struct reader_pki {
  Botan::AutoSeeded_RNG rng;
  std::unique_ptr<certs::pki_builder> builder;
  std::unique_ptr<certs::pki_builder> other_builder;  // a root that no test trusts
  certs::issued_identity intermediate;
  certs::issued_identity rsa_signer;
  certs::issued_identity p256_signer;
  certs::issued_identity p384_signer;
  certs::issued_identity ed25519_signer;
  certs::issued_identity expired_signer;      // expired 2025-01-01
  certs::issued_identity not_yet_valid_signer;  // valid from 2027-01-01
  certs::issued_identity untrusted_signer;    // issued by other_builder's root
  certs::issued_identity alice;               // RSA 2048 recipient
  certs::issued_identity bob;                 // RSA 3072 recipient

  const Botan::X509_Certificate& root() const { return builder->root().certificate; }
};

/// Returns the PKI, made on first use.
reader_pki& shared_reader_pki();

/// Returns a signer identity with the intermediate as its chain.
cms::signer_identity signer_of(const certs::issued_identity& identity, bool with_intermediate = true);

/// Returns bytes of text.
cms::bytes to_bytes(const std::string& text);

} // namespace router::testing
