// Throwaway PKI made with Botan: a root CA, an intermediate CA and end-entity
// certificates for S/MIME. Used by the demo and by the tests; never by the
// product's send path.
#pragma once

#include <botan/pkcs8.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include <chrono>
#include <memory>
#include <string>

namespace router::certs {

/// A certificate with its private key.
struct issued_identity {
  Botan::X509_Certificate certificate;
  std::unique_ptr<Botan::Private_Key> private_key;
};

struct validity_window {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

/// Key types the builder can make.
enum class key_type { rsa_2048, rsa_3072, ecdsa_p256, ecdsa_p384, ed25519 };

class pki_builder {
 public:
  /// Makes a self-signed root CA.
  pki_builder(Botan::RandomNumberGenerator& rng, const std::string& organization, validity_window window);

  /// Makes an intermediate CA signed by the root.
  issued_identity issue_intermediate(const std::string& common_name, validity_window window);

  /// Makes an S/MIME end-entity certificate for an e-mail address (subjectAltName
  /// rfc822Name and emailAddress), signed by the given CA, with digitalSignature,
  /// keyEncipherment and extendedKeyUsage emailProtection.
  issued_identity issue_email(const issued_identity& issuer, const std::string& common_name,
                              const std::string& email, validity_window window,
                              key_type type = key_type::rsa_2048);

  /// Makes a TLS server certificate for a DNS name (subjectAltName dNSName),
  /// signed by the given CA, with digitalSignature, keyEncipherment and
  /// extendedKeyUsage serverAuth.
  issued_identity issue_tls_server(const issued_identity& issuer, const std::string& dns_name,
                                   validity_window window);

  const issued_identity& root() const { return root_; }

 private:
  Botan::RandomNumberGenerator& rng_;
  std::string organization_;
  issued_identity root_;
};

/// Returns the PEM encoding of a certificate.
std::string to_pem(const Botan::X509_Certificate& certificate);

/// Returns the unencrypted PKCS#8 PEM encoding of a private key.
std::string to_pem(const Botan::Private_Key& key);

} // namespace router::certs
