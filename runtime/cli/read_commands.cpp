// `smime-router verify` and `smime-router decrypt`: check or open a stored
// S/MIME message with the CMS and MIME readers.
#include "runtime/cli/commands.hpp"

#include "runtime/certs/certs.hpp"
#include "runtime/cli/message_reader.hpp"

#include <botan/auto_rng.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

namespace router::cli {

namespace {

constexpr const char* verify_usage =
    "usage: smime-router verify FILE [--ca FILE ...] [--at UNIX_TIME]\n"
    "\n"
    "  FILE            message to check: multipart/signed or application/pkcs7-mime\n"
    "                  signed-data (MIME), or a PEM or DER CMS SignedData\n"
    "  --ca FILE       trust anchors, PEM or DER (repeatable); without one no chain is trusted\n"
    "  --at UNIX_TIME  time at which certificates are judged, in seconds since 1970-01-01 UTC\n"
    "                  (default: now)\n"
    "\n"
    "prints result, reason, signer and detail; exit 0 when the signature is good, 1 when not\n";

constexpr const char* decrypt_usage =
    "usage: smime-router decrypt FILE --key KEY.pem --cert CERT.pem [--out FILE]\n"
    "\n"
    "  FILE         encrypted message: application/pkcs7-mime enveloped-data or\n"
    "               authEnveloped-data (MIME), or a PEM or DER CMS object\n"
    "  --key FILE   the recipient's unencrypted PKCS#8 private key (PEM or DER): RSA for\n"
    "               key transport, EC for ECDH key agreement\n"
    "  --cert FILE  the recipient's certificate (PEM or DER)\n"
    "  --out FILE   where to write the decrypted entity (default: standard output)\n"
    "\n"
    "exit 0 when decrypted, 1 when the message cannot be decrypted (reason on stderr)\n";

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::invalid_argument("cannot read '" + path + "'; check the path");
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

/// Returns the single positional argument; throws std::invalid_argument otherwise.
std::string take_file(arguments& args) {
  if (args.empty())
    throw std::invalid_argument("missing FILE");
  if (args.size() > 1 || args.front().rfind("--", 0) == 0)
    throw std::invalid_argument("unexpected argument '" + (args.size() > 1 ? args[1] : args.front()) + "'");
  return args.front();
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  if (text.empty())
    return std::chrono::system_clock::now();
  size_t used = 0;
  long long seconds = 0;
  try {
    seconds = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || used == 0)
    throw std::invalid_argument("invalid --at '" + text + "'; give seconds since 1970-01-01 UTC");
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

/// Parses the verify command line into the message text and the options.
std::string parse_verify(arguments& args, cms::verify_options& options) {
  for (const std::string& path : take_all(args, "--ca")) {
    try {
      const auto anchors = certs::load_certificates(path);
      options.trust_anchors.insert(options.trust_anchors.end(), anchors.begin(), anchors.end());
    } catch (const std::exception& e) {
      throw std::invalid_argument("cannot load --ca '" + path + "': " + e.what());
    }
  }
  options.validation_time = parse_time(take_option(args, "--at"));
  return read_whole_file(take_file(args));
}

void print_verify_result(const cms::verify_result& result) {
  std::cout << "result: " << (result.ok() ? "good" : "bad") << "\n"
            << "reason: " << cms::to_string(result.status) << "\n"
            << "signer: " << (result.signer_subject.empty() ? "(unknown)" : result.signer_subject) << "\n";
  if (!result.detail.empty())
    std::cout << "detail: " << result.detail << "\n";
}

void write_output(const std::string& path, const cms::bytes& content) {
  if (path.empty()) {
    std::cout.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    std::cout.flush();
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out)
    throw router_error("cannot write '" + path + "'; check the folder and its permissions");
}

} // namespace

int run_verify(const arguments& given) {
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << verify_usage;
    return exit_ok;
  }

  cms::verify_options options;
  std::string message;
  try {
    message = parse_verify(args, options);
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router verify: " << e.what() << "\n\n" << verify_usage;
    return exit_usage;
  }

  const cms::verify_result result = verify_message(message, options);
  print_verify_result(result);
  return result.ok() ? exit_ok : exit_not_all_sent;
}

int run_decrypt(const arguments& given) {
  arguments args = given;
  if (take_flag(args, "--help")) {
    std::cout << decrypt_usage;
    return exit_ok;
  }

  std::string message;
  std::string out_path;
  std::unique_ptr<Botan::Private_Key> key;
  Botan::X509_Certificate certificate;
  try {
    const std::string key_path = take_option(args, "--key");
    const std::string certificate_path = take_option(args, "--cert");
    out_path = take_option(args, "--out");
    if (key_path.empty() || certificate_path.empty())
      throw std::invalid_argument("--key and --cert are both required");
    message = read_whole_file(take_file(args));
    key = certs::load_private_key(key_path);
    certificate = certs::load_certificate(certificate_path);
  } catch (const std::invalid_argument& e) {
    std::cerr << "smime-router decrypt: " << e.what() << "\n\n" << decrypt_usage;
    return exit_usage;
  } catch (const router_error& e) {
    std::cerr << "smime-router decrypt: " << e.what() << "\n";
    return exit_usage;
  }

  Botan::AutoSeeded_RNG rng;
  const cms::decrypt_result result = decrypt_message(message, *key, certificate, rng);
  if (!result.ok()) {
    std::cerr << "smime-router decrypt: " << cms::to_string(result.status) << ": " << result.detail << "\n";
    return exit_not_all_sent;
  }
  write_output(out_path, result.content);
  return exit_ok;
}

} // namespace router::cli
