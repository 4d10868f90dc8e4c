// Certificate and key loading, and validity-window checks.
//
// Certificates come from PEM (any number of CERTIFICATE blocks, other blocks
// skipped) or from one DER certificate. Keys must be unencrypted PKCS#8. The
// legacy PKCS#1 and SEC1 PEM forms are rejected with the command that converts
// them. Every load error is a router::router_error naming the file.
#include "runtime/certs/certs.hpp"

#include "runtime/common/error.hpp"

#include <botan/data_src.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>

namespace router::certs {

namespace {

std::string read_whole_file(const std::string& path, const std::string& file_kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string reason = std::strerror(errno);
    throw router_error("cannot read " + file_kind + " file " + path + ": " + reason +
                       "; check the path and the file permissions");
  }

  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw router_error("cannot read " + file_kind + " file " + path + ": read failed; check the file");
  if (content.empty())
    throw router_error("cannot read " + file_kind + " file " + path + ": the file is empty");
  return content;
}

/// One "-----BEGIN label-----" ... "-----END label-----" block of a PEM file.
struct pem_block {
  std::string label;
  std::string text;  // the whole block, armour lines included
};

/// Splits PEM text into its blocks. Text between blocks is skipped.
std::vector<pem_block> split_pem(const std::string& content) {
  static const std::string begin_marker = "-----BEGIN ";
  static const std::string dashes = "-----";

  std::vector<pem_block> blocks;
  size_t position = 0;
  while ((position = content.find(begin_marker, position)) != std::string::npos) {
    const size_t label_start = position + begin_marker.size();
    const size_t label_end = content.find(dashes, label_start);
    if (label_end == std::string::npos)
      break;

    const std::string label = content.substr(label_start, label_end - label_start);
    const std::string end_line = "-----END " + label + dashes;
    const size_t end = content.find(end_line, label_end);
    if (end == std::string::npos)
      break;

    const size_t block_end = end + end_line.size();
    blocks.push_back({label, content.substr(position, block_end - position)});
    position = block_end;
  }
  return blocks;
}

bool looks_like_pem(const std::string& content) {
  return content.find("-----BEGIN ") != std::string::npos;
}

Botan::X509_Certificate parse_der_certificate(const std::string& content) {
  const std::vector<uint8_t> der(content.begin(), content.end());
  return Botan::X509_Certificate(der);
}

Botan::X509_Certificate parse_pem_certificate(const pem_block& block) {
  const auto der = Botan::PEM_Code::decode_check_label(block.text, block.label);
  return Botan::X509_Certificate(std::vector<uint8_t>(der.begin(), der.end()));
}

bool is_certificate_label(const std::string& label) {
  return label == "CERTIFICATE" || label == "X509 CERTIFICATE";
}

std::vector<Botan::X509_Certificate> parse_certificates(const std::string& path,
                                                        const std::string& content) {
  const std::string advice = "; export the certificate as PEM or DER";

  if (!looks_like_pem(content)) {
    try {
      return {parse_der_certificate(content)};
    } catch (const Botan::Exception& error) {
      throw router_error("cannot read certificate file " + path +
                         ": no PEM or DER certificate found (" + error.what() + ")" + advice);
    }
  }

  std::vector<Botan::X509_Certificate> certificates;
  for (const pem_block& block : split_pem(content)) {
    if (!is_certificate_label(block.label))
      continue;
    try {
      certificates.push_back(parse_pem_certificate(block));
    } catch (const Botan::Exception& error) {
      throw router_error("cannot read certificate file " + path + ": PEM certificate number " +
                         std::to_string(certificates.size() + 1) + " is invalid (" +
                         error.what() + ")" + advice);
    }
  }
  if (certificates.empty())
    throw router_error("cannot read certificate file " + path +
                       ": no PEM or DER certificate found" + advice);
  return certificates;
}

/// Returns advice for PEM key labels that are not unencrypted PKCS#8, or nothing.
std::optional<std::string> explain_unsupported_key_label(const std::string& label) {
  if (label == "ENCRYPTED PRIVATE KEY")
    return std::string("the key is encrypted; export it unencrypted with "
                       "'openssl pkcs8 -in KEY -nocrypt -out KEY.pem'");
  if (label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY")
    return "the key is in the legacy '" + label +
           "' form; convert it to PKCS#8 with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem'";
  return std::nullopt;
}

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  // Days since 1970-01-01 in the proleptic Gregorian calendar, counted in
  // 400-year eras that start on March 1 so the leap day ends a year.
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

/// Converts an X.509 time to a time point. Botan 2.19's to_std_timepoint() is not used
/// because it rejects years before 1970.
time_point to_time_point(const Botan::X509_Time& time) {
  // readable_string() is "YYYY/MM/DD HH:MM:SS UTC" for both UTCTime and GeneralizedTime.
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const std::string text = time.readable_string();
  if (std::sscanf(text.c_str(), "%d/%u/%u %u:%u:%u", &year, &month, &day, &hour, &minute,
                  &second) != 6)
    throw router_error("certificate time '" + text + "' is not in the expected form");

  const int64_t days = days_from_civil(year, month, day);
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  return time_point(std::chrono::seconds(seconds));
}

} // namespace

Botan::X509_Certificate load_certificate(const std::string& path) {
  return load_certificates(path).front();
}

std::vector<Botan::X509_Certificate> load_certificates(const std::string& path) {
  const std::string content = read_whole_file(path, "certificate");
  return parse_certificates(path, content);
}

std::unique_ptr<Botan::Private_Key> load_private_key(const std::string& path) {
  const std::string content = read_whole_file(path, "private key");

  if (looks_like_pem(content)) {
    for (const pem_block& block : split_pem(content)) {
      if (const auto advice = explain_unsupported_key_label(block.label))
        throw router_error("cannot read private key file " + path + ": " + *advice);
    }
  }

  try {
    Botan::DataSource_Memory source(content);
    return Botan::PKCS8::load_key(source);
  } catch (const Botan::Exception& error) {
    throw router_error("cannot read private key file " + path +
                       ": no unencrypted PKCS#8 private key found (" + error.what() +
                       "); export the key as unencrypted PKCS#8, PEM or DER");
  }
}

bool key_matches_certificate(const Botan::Private_Key& key,
                             const Botan::X509_Certificate& certificate) {
  std::unique_ptr<Botan::Public_Key> certificate_key;
  try {
    certificate_key = certificate.load_subject_public_key();
  } catch (const Botan::Exception&) {
    return false;
  }

  // Both sides are re-encoded by Botan, so encoding choices of the issuer
  // (such as a compressed EC point) do not cause a false mismatch.
  if (certificate_key->algo_name() != key.algo_name())
    return false;
  return certificate_key->public_key_bits() == key.public_key_bits();
}

validity check_validity(const Botan::X509_Certificate& certificate, time_point now) {
  // RFC 5280 4.1.2.5: the validity period includes both notBefore and notAfter.
  if (now < not_before(certificate))
    return validity::not_yet_valid;
  if (now > not_after(certificate))
    return validity::expired;
  return validity::valid;
}

time_point not_before(const Botan::X509_Certificate& certificate) {
  return to_time_point(certificate.not_before());
}

time_point not_after(const Botan::X509_Certificate& certificate) {
  return to_time_point(certificate.not_after());
}

Botan::X509_Time to_asn1_time(time_point time) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(time));
  std::tm fields{};
  if (::gmtime_r(&seconds, &fields) == nullptr)
    throw router_error("time " + std::to_string(seconds) + " is out of the calendar range");

  const int year = fields.tm_year + 1900;
  const bool use_utc_time = year >= 1950 && year <= 2049;
  char text[32];
  std::snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ", year, fields.tm_mon + 1,
                fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec);

  // UTCTime carries only the last two digits of the year.
  try {
    if (use_utc_time)
      return Botan::X509_Time(text + 2, Botan::UTC_TIME);
    return Botan::X509_Time(text, Botan::GENERALIZED_TIME);
  } catch (const Botan::Exception& error) {
    // Botan 2.19 rejects years before 1950 in either form.
    throw router_error("time " + std::string(text) + " cannot be encoded: " + error.what());
  }
}

time_point from_asn1_time(const Botan::X509_Time& time) {
  return to_time_point(time);
}

std::string fingerprint_sha256(const Botan::X509_Certificate& certificate) {
  const auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  const auto digest = hash->process(certificate.BER_encode());
  return Botan::hex_encode(digest.data(), digest.size(), false);
}

} // namespace router::certs
