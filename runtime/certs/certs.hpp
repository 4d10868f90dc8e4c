// Certificate and key loading, and usability checks judged at a given time.
//
// Loading throws router::router_error with a message that names the file;
// checks return a value with a reason instead of throwing.
#pragma once

#include <botan/asn1_obj.h>
#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace router::certs {

using time_point = std::chrono::system_clock::time_point;

/// Loads one X.509 certificate from a PEM or DER file.
Botan::X509_Certificate load_certificate(const std::string& path);

/// Loads every certificate in a PEM file (or the single one in a DER file).
std::vector<Botan::X509_Certificate> load_certificates(const std::string& path);

/// Loads an unencrypted PKCS#8 private key (PEM or DER).
std::unique_ptr<Botan::Private_Key> load_private_key(const std::string& path);

/// Returns true when the key is the private half of the certificate's public key.
bool key_matches_certificate(const Botan::Private_Key& key, const Botan::X509_Certificate& certificate);

enum class validity { valid, expired, not_yet_valid };

/// Judges the certificate's validity window at the given time.
validity check_validity(const Botan::X509_Certificate& certificate, time_point now);

time_point not_before(const Botan::X509_Certificate& certificate);
time_point not_after(const Botan::X509_Certificate& certificate);

/// Converts a time to the ASN.1 form RFC 5280 4.1.2.5 and RFC 5652 11.3 prescribe:
/// UTCTime for the years 1950 through 2049, GeneralizedTime otherwise, both in
/// whole seconds with a "Z" suffix. Sub-second parts are dropped. Throws
/// router_error for years before 1950, which Botan 2.19 cannot encode.
Botan::X509_Time to_asn1_time(time_point time);

/// Converts an X.509 time (UTCTime or GeneralizedTime) to a time point.
time_point from_asn1_time(const Botan::X509_Time& time);

/// Returns the SHA-256 fingerprint of the DER certificate as lower-case hex.
std::string fingerprint_sha256(const Botan::X509_Certificate& certificate);

} // namespace router::certs
