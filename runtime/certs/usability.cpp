#include "runtime/certs/usability.hpp"

#include "runtime/certs/certs.hpp"

#include <botan/certstor.h>
#include <botan/x509path.h>

#include <algorithm>
#include <cctype>

namespace router::certs {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

usability_verdict verdict(usability state, std::string detail) {
  return usability_verdict{state, std::move(detail)};
}

usability_verdict check_chain(const Botan::X509_Certificate& certificate, const trust_store& trust,
                              std::chrono::system_clock::time_point now) {
  Botan::Certificate_Store_In_Memory store;
  for (const auto& anchor : trust.anchors)
    store.add_certificate(anchor);
  for (const auto& crl : trust.crls)
    store.add_crl(crl);

  std::vector<Botan::X509_Certificate> chain{certificate};
  chain.insert(chain.end(), trust.intermediates.begin(), trust.intermediates.end());

  // Revocation is checked where a CRL for the issuer is configured; a missing
  // CRL is not a failure, because most S/MIME deployments publish none locally.
  const Botan::Path_Validation_Restrictions restrictions(false, 110);
  const auto result = Botan::x509_path_validate(chain, restrictions, store, "", Botan::Usage_Type::UNSPECIFIED, now);
  if (result.successful_validation())
    return verdict(usability::usable, "");

  const auto status = result.result();
  const std::string reason = result.result_string();
  switch (status) {
    case Botan::Certificate_Status_Code::CERT_HAS_EXPIRED:
      return verdict(usability::expired, "a certificate in the chain has expired: " + reason);
    case Botan::Certificate_Status_Code::CERT_NOT_YET_VALID:
      return verdict(usability::not_yet_valid, "a certificate in the chain is not yet valid: " + reason);
    case Botan::Certificate_Status_Code::CERT_IS_REVOKED:
      return verdict(usability::revoked, "the certificate is revoked by a configured CRL");
    default:
      return verdict(usability::untrusted, "the certificate does not chain to a configured trust anchor: " + reason);
  }
}

usability_verdict check_key_usage(const Botan::X509_Certificate& certificate, purpose use) {
  if (use == purpose::sign) {
    if (!certificate.allowed_usage(Botan::DIGITAL_SIGNATURE))
      return verdict(usability::wrong_key_usage, "keyUsage lacks digitalSignature, so it cannot sign");
  } else {
    const std::string algorithm = certificate.subject_public_key_algo().get_oid().to_formatted_string();
    const bool is_ec = algorithm == "ECDSA" || algorithm == "ECDH";
    const auto needed = is_ec ? Botan::KEY_AGREEMENT : Botan::KEY_ENCIPHERMENT;
    if (!certificate.allowed_usage(needed))
      return verdict(usability::wrong_key_usage,
                     std::string("keyUsage lacks ") + (is_ec ? "keyAgreement" : "keyEncipherment") +
                         ", so it cannot receive encrypted mail");
  }
  if (!certificate.allowed_extended_usage("PKIX.EmailProtection"))
    return verdict(usability::wrong_key_usage, "extendedKeyUsage does not include emailProtection");
  return verdict(usability::usable, "");
}

usability_verdict check_window(const Botan::X509_Certificate& certificate, std::chrono::system_clock::time_point now) {
  const std::string window = " (valid " + certificate.not_before().readable_string() + " to " +
                             certificate.not_after().readable_string() + ")";
  switch (check_validity(certificate, now)) {
    case validity::expired:
      return verdict(usability::expired, "the certificate has expired" + window);
    case validity::not_yet_valid:
      return verdict(usability::not_yet_valid, "the certificate is not yet valid" + window);
    case validity::valid:
      break;
  }
  return verdict(usability::usable, "");
}

} // namespace

std::vector<std::string> certificate_addresses(const Botan::X509_Certificate& certificate) {
  std::vector<std::string> addresses = certificate.subject_alt_name().get_attribute("RFC822");
  if (addresses.empty())
    addresses = certificate.subject_info("RFC822");
  return addresses;
}

bool same_address(const std::string& left, const std::string& right) {
  const auto left_at = left.rfind('@');
  const auto right_at = right.rfind('@');
  if (left_at == std::string::npos || right_at == std::string::npos)
    return false;
  return left.substr(0, left_at) == right.substr(0, right_at) &&
         lower(left.substr(left_at + 1)) == lower(right.substr(right_at + 1));
}

usability_verdict check_usability(const Botan::X509_Certificate& certificate, purpose use,
                                  const std::string& address, const trust_store& trust,
                                  std::chrono::system_clock::time_point now) {
  auto window = check_window(certificate, now);
  if (window.state != usability::usable)
    return window;

  auto chain = check_chain(certificate, trust, now);
  if (chain.state != usability::usable)
    return chain;

  auto key_usage = check_key_usage(certificate, use);
  if (key_usage.state != usability::usable)
    return key_usage;

  const auto addresses = certificate_addresses(certificate);
  const bool matches = std::any_of(addresses.begin(), addresses.end(),
                                   [&](const std::string& named) { return same_address(named, address); });
  if (!matches) {
    std::string named = addresses.empty() ? "no address" : addresses.front();
    return verdict(usability::address_mismatch, "the certificate is for " + named + ", not " + address);
  }
  return verdict(usability::usable, "");
}

usability_verdict check_tls_server_usability(const Botan::X509_Certificate& certificate,
                                             std::chrono::system_clock::time_point now) {
  auto window = check_window(certificate, now);
  if (window.state != usability::usable)
    return window;

  // TLS 1.2 signs the key exchange (digitalSignature) or, for RSA key
  // transport, encrypts the premaster secret (keyEncipherment), RFC 5246 7.4.2.
  if (!certificate.allowed_usage(Botan::DIGITAL_SIGNATURE) && !certificate.allowed_usage(Botan::KEY_ENCIPHERMENT))
    return verdict(usability::wrong_key_usage,
                   "keyUsage has neither digitalSignature nor keyEncipherment, so it cannot serve TLS");
  if (!certificate.allowed_extended_usage("PKIX.ServerAuth"))
    return verdict(usability::wrong_key_usage,
                   "extendedKeyUsage does not include serverAuth, so TLS clients that check it reject the certificate");
  return verdict(usability::usable, "");
}

std::string to_string(usability state) {
  switch (state) {
    case usability::usable:
      return "usable";
    case usability::expired:
      return "expired";
    case usability::not_yet_valid:
      return "not_yet_valid";
    case usability::untrusted:
      return "untrusted";
    case usability::revoked:
      return "revoked";
    case usability::wrong_key_usage:
      return "wrong_key_usage";
    case usability::address_mismatch:
      return "address_mismatch";
  }
  return "unknown";
}

} // namespace router::certs
