// Whether a certificate may be used for S/MIME at a given time, and whether
// it may serve as the SMTP reception's STARTTLS certificate.
//
// Checks, in this order: the validity window; the chain to the trust anchors
// with Botan's path validation, including revocation when CRLs for the issuer
// are given; the key usage for the purpose; extendedKeyUsage emailProtection
// when the extension is present; and that the address is the certificate's
// (subjectAltName rfc822Name, else subject emailAddress, with the domain
// compared case-insensitively). The first failing check is the verdict. The
// STARTTLS check is shorter; see check_tls_server_usability.
#pragma once

#include <botan/x509_crl.h>
#include <botan/x509cert.h>

#include <chrono>
#include <string>
#include <vector>

namespace router::certs {

enum class purpose {
  sign,     // digitalSignature
  encrypt,  // keyEncipherment for RSA, keyAgreement for EC keys
};

enum class usability {
  usable,
  expired,
  not_yet_valid,
  untrusted,        // no chain to a trust anchor, or a broken chain
  revoked,
  wrong_key_usage,  // keyUsage or extendedKeyUsage forbids the purpose
  address_mismatch,
};

/// Trust anchors, intermediates that may complete chains, and CRLs.
struct trust_store {
  std::vector<Botan::X509_Certificate> anchors;
  std::vector<Botan::X509_Certificate> intermediates;
  std::vector<Botan::X509_CRL> crls;
};

struct usability_verdict {
  usability state = usability::usable;
  std::string detail;  // readable reason; empty when usable
};

/// Judges a certificate for a purpose and an address at `now`.
usability_verdict check_usability(const Botan::X509_Certificate& certificate, purpose use,
                                  const std::string& address, const trust_store& trust,
                                  std::chrono::system_clock::time_point now);

/// Judges the STARTTLS certificate of the SMTP reception server at `now`: its
/// validity window, then keyUsage (digitalSignature or keyEncipherment) and
/// extendedKeyUsage serverAuth where those extensions are present.
/// NOTE: the chain and the host name are not checked, because clients judge
/// them against their own trust store and the name they connected to.
usability_verdict check_tls_server_usability(const Botan::X509_Certificate& certificate,
                                             std::chrono::system_clock::time_point now);

/// Returns the e-mail addresses a certificate names: subjectAltName rfc822Name
/// entries, or the subject emailAddress when there are none.
std::vector<std::string> certificate_addresses(const Botan::X509_Certificate& certificate);

/// Returns true when two addresses are equal, the domain compared case-insensitively.
bool same_address(const std::string& left, const std::string& right);

/// Returns the lower-case name of a usability state, e.g. "wrong_key_usage".
std::string to_string(usability state);

} // namespace router::certs
