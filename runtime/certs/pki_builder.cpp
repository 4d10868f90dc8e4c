// Throwaway PKI for demos and tests: an RSA-2048 root CA, RSA-2048
// intermediates, S/MIME end-entity certificates of several key types and RSA
// TLS server certificates.
//
// Every validity window is passed in, so tests never depend on the real date.
// The CAs always sign with RSA PKCS#1 v1.5 and SHA-256. Serial numbers are
// random. Keys are generated in memory and never written anywhere.
#include "runtime/certs/pki_builder.hpp"

#include "runtime/certs/certs.hpp"

#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509self.h>

namespace router::certs {

namespace {

const std::string ca_hash = "SHA-256";

/// Returns a certificate for `key`, signed by `issuer`, with these extensions
/// and no others.
Botan::X509_Certificate issue_certificate(const issued_identity& issuer, const Botan::Private_Key& key,
                                          const Botan::X509_DN& subject, const Botan::Extensions& extensions,
                                          const validity_window& window, Botan::RandomNumberGenerator& rng) {
  Botan::AlgorithmIdentifier signature_algorithm;
  const std::unique_ptr<Botan::PK_Signer> signer(
      Botan::choose_sig_format(*issuer.private_key, rng, ca_hash, signature_algorithm));
  return Botan::X509_CA::make_cert(signer.get(), rng, signature_algorithm, key.subject_public_key(),
                                   to_asn1_time(window.not_before), to_asn1_time(window.not_after),
                                   issuer.certificate.subject_dn(), subject, extensions);
}

std::unique_ptr<Botan::Private_Key> generate_key(key_type type, Botan::RandomNumberGenerator& rng) {
  switch (type) {
    case key_type::rsa_2048:
      return std::make_unique<Botan::RSA_PrivateKey>(rng, 2048);
    case key_type::rsa_3072:
      return std::make_unique<Botan::RSA_PrivateKey>(rng, 3072);
    case key_type::ecdsa_p256:
      return std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
    case key_type::ecdsa_p384:
      return std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp384r1"));
    case key_type::ed25519:
      return std::make_unique<Botan::Ed25519_PrivateKey>(rng);
  }
  throw std::logic_error("unhandled key_type");
}

/// Key usage bits an S/MIME end-entity key of this type may carry (RFC 8550 4.4.2).
Botan::Key_Constraints email_key_usage(key_type type) {
  switch (type) {
    case key_type::rsa_2048:
    case key_type::rsa_3072:
      return Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT);
    case key_type::ecdsa_p256:
    case key_type::ecdsa_p384:
      // keyAgreement lets the same key serve ECDH recipients (RFC 5753).
      return Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_AGREEMENT);
    case key_type::ed25519:
      return Botan::DIGITAL_SIGNATURE;
  }
  throw std::logic_error("unhandled key_type");
}

issued_identity make_root(Botan::RandomNumberGenerator& rng, const std::string& organization,
                          const validity_window& window) {
  Botan::X509_Cert_Options options;
  options.common_name = organization + " Root CA";
  options.organization = organization;
  options.CA_key(1);  // path length 1: one intermediate below the root
  options.start = to_asn1_time(window.not_before);
  options.end = to_asn1_time(window.not_after);

  auto key = generate_key(key_type::rsa_2048, rng);
  auto certificate = Botan::X509::create_self_signed_cert(options, *key, ca_hash, rng);
  return {std::move(certificate), std::move(key)};
}

} // namespace

pki_builder::pki_builder(Botan::RandomNumberGenerator& rng, const std::string& organization,
                         validity_window window)
    : rng_(rng), organization_(organization), root_(make_root(rng, organization, window)) {}

issued_identity pki_builder::issue_intermediate(const std::string& common_name,
                                                validity_window window) {
  Botan::X509_Cert_Options options;
  options.common_name = common_name;
  options.organization = organization_;
  options.CA_key(0);  // path length 0: it issues end-entity certificates only

  auto key = generate_key(key_type::rsa_2048, rng_);
  const auto request = Botan::X509::create_cert_req(options, *key, ca_hash, rng_);

  // X509_CA gives a CA request keyCertSign and cRLSign and adds both key identifiers.
  const Botan::X509_CA root_ca(root_.certificate, *root_.private_key, ca_hash, rng_);
  auto certificate = root_ca.sign_request(request, rng_, to_asn1_time(window.not_before),
                                          to_asn1_time(window.not_after));
  return {std::move(certificate), std::move(key)};
}

issued_identity pki_builder::issue_email(const issued_identity& issuer,
                                         const std::string& common_name, const std::string& email,
                                         validity_window window, key_type type) {
  auto key = generate_key(type, rng_);

  Botan::X509_DN subject;
  subject.add_attribute("X520.CommonName", common_name);
  subject.add_attribute("X520.Organization", organization_);
  subject.add_attribute(Botan::OID::from_string("PKCS9.EmailAddress"),
                        Botan::ASN1_String(email, Botan::IA5_STRING));

  // The extensions are set here rather than through a PKCS#10 request, because
  // Botan's X509_CA refuses keyAgreement on an ECDSA key.
  Botan::Extensions extensions;
  extensions.add(new Botan::Cert_Extension::Basic_Constraints(false), true);
  extensions.add(new Botan::Cert_Extension::Key_Usage(email_key_usage(type)), true);
  extensions.add(new Botan::Cert_Extension::Extended_Key_Usage(
      {Botan::OID::from_string("PKIX.EmailProtection")}));
  extensions.add(new Botan::Cert_Extension::Subject_Alternative_Name(Botan::AlternativeName(email)));
  // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  extensions.add(new Botan::Cert_Extension::Subject_Key_ID(key->public_key_bits(), "SHA-1"));
  extensions.add(new Botan::Cert_Extension::Authority_Key_ID(issuer.certificate.subject_key_id()));

  auto certificate = issue_certificate(issuer, *key, subject, extensions, window, rng_);
  return {std::move(certificate), std::move(key)};
}

issued_identity pki_builder::issue_tls_server(const issued_identity& issuer, const std::string& dns_name,
                                              validity_window window) {
  auto key = generate_key(key_type::rsa_2048, rng_);

  Botan::X509_DN subject;
  subject.add_attribute("X520.CommonName", dns_name);
  subject.add_attribute("X520.Organization", organization_);

  Botan::Extensions extensions;
  extensions.add(new Botan::Cert_Extension::Basic_Constraints(false), true);
  extensions.add(new Botan::Cert_Extension::Key_Usage(
                     Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE | Botan::KEY_ENCIPHERMENT)),
                 true);
  extensions.add(new Botan::Cert_Extension::Extended_Key_Usage({Botan::OID::from_string("PKIX.ServerAuth")}));
  extensions.add(new Botan::Cert_Extension::Subject_Alternative_Name(Botan::AlternativeName("", "", dns_name)));
  extensions.add(new Botan::Cert_Extension::Subject_Key_ID(key->public_key_bits(), "SHA-1"));
  extensions.add(new Botan::Cert_Extension::Authority_Key_ID(issuer.certificate.subject_key_id()));

  auto certificate = issue_certificate(issuer, *key, subject, extensions, window, rng_);
  return {std::move(certificate), std::move(key)};
}

std::string to_pem(const Botan::X509_Certificate& certificate) {
  return certificate.PEM_encode();
}

std::string to_pem(const Botan::Private_Key& key) {
  return Botan::PKCS8::PEM_encode(key);
}

} // namespace router::certs
