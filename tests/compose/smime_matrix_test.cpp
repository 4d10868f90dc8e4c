// Complete S/MIME messages built by compose::build_for_destination for every
// combination of signature algorithm, key transport or agreement, content
// cipher, signature form (detached or opaque) and shape (signed, encrypted,
// both), each checked by independent implementations.
//
// Checkers: `openssl cms` decrypts and verifies (-attime, the root as the only
// CA file, no -certfile, and no -binary on verify because OpenSSL 3.0 rejoins
// multipart/signed lines with LF in binary mode). OpenSSL 3.0 cannot verify
// Ed25519 SignedData, so tests/cms/check_ed25519_signed_data.py checks those
// signatures. gpgsm verifies every signature except Ed25519, which gpgsm
// 2.2.40 fails with an internal error. The full cross product is built: 14
// signed, 20 encrypted and 280 signed-and-encrypted messages. Each test process
// makes one PKI with an RSA, two ECDSA and one Ed25519 device identity and an
// RSA, a P-256 and a P-384 recipient. The signed-and-encrypted cases run as one
// test per signature algorithm, so ctest can spread them over cores.
#include "runtime/certs/certs.hpp"
#include "runtime/certs/pki_builder.hpp"
#include "runtime/cms/cms.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/config/config.hpp"
#include "runtime/mime/mime.hpp"
#include "tests/common/test_pki.hpp"

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/ber_dec.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace router::testing {
namespace {

using certs::issued_identity;
using certs::key_type;
using certs::pki_builder;
using certs::to_pem;

const certs::validity_window long_window{utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")};
const std::string device_address = "router@device.example.com";
const std::string faked_gpgsm_time = "20260601T000000";  // reference_time()
const std::string body_text = "Scan of 3 pages from the device.\r\nSecond line.\r\n";

/// One value of the signature axis: the device key and the config that selects the algorithm.
struct signature_case {
  std::string name;
  std::string device;  // device identity file stem under pki/
  std::string digest;  // algorithms.digest
  std::string rsa_scheme;
  std::string micalg;  // expected micalg parameter
};

const std::vector<signature_case> signature_cases = {
    {"rsa_sha256", "device-rsa", "SHA256", "RSASSA_PKCS1V15", "sha-256"},
    {"rsa_sha384", "device-rsa", "SHA384", "RSASSA_PKCS1V15", "sha-384"},
    {"rsa_sha512", "device-rsa", "SHA512", "RSASSA_PKCS1V15", "sha-512"},
    {"rsa_pss_sha256", "device-rsa", "SHA256", "RSASSA_PSS", "sha-256"},
    {"ecdsa_p256", "device-p256", "SHA256", "RSASSA_PKCS1V15", "sha-256"},
    {"ecdsa_p384", "device-p384", "SHA384", "RSASSA_PKCS1V15", "sha-384"},
    // The config requests SHA-256, and compose must switch to SHA-512 for Ed25519.
    {"ed25519", "device-ed25519", "SHA256", "RSASSA_PKCS1V15", "sha-512"},
};

/// Prints a signature case by name, so test names stay readable.
void PrintTo(const signature_case& value, std::ostream* out) {
  *out << value.name;
}

/// One value of the key management axis: the recipient certificate and whether
/// the address-book entry requests OAEP.
struct key_management_case {
  std::string name;
  std::string recipient;  // recipient identity file stem under pki/
  bool oaep;
};

const std::vector<key_management_case> key_management_cases = {
    {"rsa_v15", "rsa", false},
    {"rsa_oaep", "rsa", true},
    {"ecdh_p256", "p256", false},
    {"ecdh_p384", "p384", false},
};

/// One value of the content cipher axis, with the names openssl prints.
struct cipher_case {
  std::string config_name;
  std::string openssl_name;
  bool authenticated;
};

const std::vector<cipher_case> cipher_cases = {
    {"AES128_CBC", "aes-128-cbc", false}, {"AES192_CBC", "aes-192-cbc", false},
    {"AES256_CBC", "aes-256-cbc", false}, {"AES128_GCM", "aes-128-gcm", true},
    {"AES256_GCM", "aes-256-gcm", true},
};

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// Returns the address-book id of a destination in the matrix config.
std::string entry_id(const key_management_case& management, const cipher_case& cipher) {
  return management.name + "." + lower(cipher.config_name);
}

std::string recipient_address(const std::string& recipient) {
  return recipient + "@example.com";
}

/// Returns the value of a parameter such as boundary="..." in an entity's header block.
std::string header_parameter(const std::string& entity, const std::string& name) {
  const size_t header_end = entity.find("\r\n\r\n");
  const std::string headers = entity.substr(0, header_end);
  const size_t start = headers.find(name + "=");
  if (start == std::string::npos)
    return "";
  size_t value_start = start + name.size() + 1;
  const bool quoted = headers[value_start] == '"';
  if (quoted)
    ++value_start;
  const size_t value_end = headers.find_first_of(quoted ? "\"" : ";\r\n ", value_start);
  return headers.substr(value_start, value_end - value_start);
}

std::string body_of(const std::string& entity) {
  return entity.substr(entity.find("\r\n\r\n") + 4);
}

/// The signed part of a detached multipart/signed entity and its signature.
struct detached_parts {
  std::string content;       // the first part, byte for byte
  std::vector<uint8_t> signature;
};

detached_parts split_multipart_signed(const std::string& entity) {
  const std::string delimiter = "--" + header_parameter(entity, "boundary");
  const size_t first = entity.find(delimiter + "\r\n");
  const size_t content_start = first + delimiter.size() + 2;
  const size_t content_end = entity.find("\r\n" + delimiter + "\r\n", content_start);
  const size_t signature_start = content_end + delimiter.size() + 4;
  const size_t signature_end = entity.find("\r\n" + delimiter + "--", signature_start);

  const std::string signature_part = entity.substr(signature_start, signature_end - signature_start);
  const auto der = Botan::base64_decode(body_of(signature_part));
  return {entity.substr(content_start, content_end - content_start), {der.begin(), der.end()}};
}

std::vector<uint8_t> pkcs7_mime_der(const std::string& entity) {
  const auto der = Botan::base64_decode(body_of(entity));
  return {der.begin(), der.end()};
}

/// Returns eContent of an encapsulated SignedData ContentInfo.
std::string encapsulated_content(const std::vector<uint8_t>& der) {
  Botan::OID type;
  std::vector<uint8_t> content;
  Botan::BER_Decoder content_info(der);
  Botan::BER_Decoder outer = content_info.start_cons(Botan::SEQUENCE);
  outer.decode(type);
  Botan::BER_Decoder signed_data =
      outer.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC).start_cons(Botan::SEQUENCE);
  signed_data.get_next_object();  // version
  signed_data.get_next_object();  // digestAlgorithms
  Botan::BER_Decoder encapsulated = signed_data.start_cons(Botan::SEQUENCE);
  encapsulated.decode(type);
  encapsulated.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC).decode(content, Botan::OCTET_STRING);
  return std::string(content.begin(), content.end());
}

/// Returns true when every LF is preceded by CR and every CR followed by LF.
bool has_only_crlf(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      return false;
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))
      return false;
  }
  return true;
}

size_t longest_line(const std::string& text) {
  size_t longest = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\r\n", start);
    if (end == std::string::npos)
      end = text.size();
    longest = std::max(longest, end - start);
    start = end + 2;
  }
  return longest;
}

class smime_matrix_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rng_ = new Botan::AutoSeeded_RNG;
    dir_ = new scratch_dir;
    std::filesystem::create_directories(pki());

    pki_builder builder(*rng_, "Matrix Test", long_window);
    const auto intermediate = builder.issue_intermediate("Matrix Test Mail CA", long_window);
    write_file(pki() / "root.pem", to_pem(builder.root().certificate));
    write_file(pki() / "intermediate.pem", to_pem(intermediate.certificate));

    const std::vector<std::pair<std::string, key_type>> devices = {{"device-rsa", key_type::rsa_2048},
                                                                   {"device-p256", key_type::ecdsa_p256},
                                                                   {"device-p384", key_type::ecdsa_p384},
                                                                   {"device-ed25519", key_type::ed25519}};
    for (const auto& [name, type] : devices)
      write_identity(name, builder.issue_email(intermediate, "Router " + name, device_address, long_window, type));

    const std::vector<std::pair<std::string, key_type>> recipients = {
        {"rsa", key_type::rsa_2048}, {"p256", key_type::ecdsa_p256}, {"p384", key_type::ecdsa_p384}};
    for (const auto& [name, type] : recipients)
      write_identity(name,
                     builder.issue_email(intermediate, "Reader " + name, recipient_address(name), long_window, type));

    gpgsm_available_ = run_command("gpgsm --version").exit_code == 0;
    if (gpgsm_available_)
      set_up_gpgsm(builder.root().certificate);
  }

  static void TearDownTestSuite() {
    if (gpgsm_available_)
      run_command("GNUPGHOME=" + shell_quote(gnupg_home().string()) + " gpgconf --kill gpg-agent");
    delete dir_;
    delete rng_;
  }

  static std::filesystem::path pki() { return dir_->path() / "pki"; }
  static std::filesystem::path gnupg_home() { return dir_->path() / "gnupg"; }
  static std::string path(const std::string& name) { return shell_quote((dir_->path() / name).string()); }
  static std::string pki_path(const std::string& name) { return shell_quote((pki() / name).string()); }

  static void write_identity(const std::string& name, const issued_identity& identity) {
    write_file(pki() / (name + ".cert.pem"), to_pem(identity.certificate));
    write_file(pki() / (name + ".key.pem"), to_pem(*identity.private_key));
  }

  /// Makes a throwaway GNUPGHOME that trusts only the test root, without CRL checks.
  static void set_up_gpgsm(const Botan::X509_Certificate& root) {
    std::filesystem::create_directory(gnupg_home());
    std::filesystem::permissions(gnupg_home(), std::filesystem::perms::owner_all);
    write_file(gnupg_home() / "gpgsm.conf", std::string("disable-crl-checks\n"));
    write_file(gnupg_home() / "trustlist.txt", root.fingerprint("SHA-1") + " S\n");
    const auto imported = gpgsm("--import " + pki_path("root.pem"));
    if (imported.exit_code != 0)
      ADD_FAILURE() << "gpgsm cannot import the test root: " << imported.output;
  }

  static command_result gpgsm(const std::string& arguments) {
    return run_command("GNUPGHOME=" + shell_quote(gnupg_home().string()) + " gpgsm --batch --status-fd 1 " +
                       "--faked-system-time " + faked_gpgsm_time + " " + arguments);
  }

  /// Returns a config with one address-book entry per key management and cipher
  /// pair, each with its own content_cipher, signed by the case's device key.
  static std::string matrix_config(const signature_case& signature, const std::string& form,
                                   const std::string& extra_algorithms = "", const std::string& extra = "") {
    std::string text = "signature_mode: SET_INDIVIDUALLY\n";
    for (const auto& management : key_management_cases) {
      for (const auto& cipher : cipher_cases) {
        text += "address_book { id: \"" + entry_id(management, cipher) + "\" address: \"" +
                recipient_address(management.recipient) + "\" kind: EMAIL encrypt: true certificate_file: \"pki/" +
                management.recipient + ".cert.pem\" content_cipher: " + cipher.config_name +
                (management.oaep ? " key_transport: RSA_OAEP_SHA256" : "") + " }\n";
      }
    }
    text += "device {\n  certificate_file: \"pki/" + signature.device + ".cert.pem\"\n  private_key_file: \"pki/" +
            signature.device + ".key.pem\"\n  chain_files: \"pki/intermediate.pem\"\n  sender_address: \"" +
            device_address + "\"\n}\n";
    text += "trust_anchor_files: \"pki/root.pem\"\n";
    text += "algorithms { digest: " + signature.digest + " signing { form: " + form +
            " rsa_scheme: " + signature.rsa_scheme + " } " + extra_algorithms + " }\n";
    text += "delivery { outbox { directory: \"outbox\" } }\n";
    return text + extra;
  }

  static config::loaded_config load(const std::string& text) {
    return config::load_config_text(text, dir_->path() / "router.textproto");
  }

  static messages::job_request job_with(const std::string& text) {
    messages::job_request job;
    job.set_job_id("matrix-job");
    job.set_function(config::STORE);
    job.set_subject("Matrix scan");
    job.set_body_text(text);
    auto* attachment = job.add_attachments();
    attachment->set_filename("scan.pdf");
    attachment->set_content_type("application/pdf");
    static const char pdf[] = "%PDF-1.4\n\x00\x01\xfe\xff binary scan\n%%EOF\n";
    attachment->set_data(std::string(pdf, sizeof pdf - 1));  // keeps the NUL byte
    job.add_destinations()->set_id("destination");
    return job;
  }

  /// Builds the message for one address-book entry (or a bare address).
  static std::string build(const config::loaded_config& loaded, const std::string& id, const std::string& address,
                           bool sign, bool encrypt, const std::string& text = body_text) {
    messages::destination_plan plan;
    plan.set_index(0);
    plan.set_destination_id(id);
    plan.set_address(address);
    plan.set_kind(config::EMAIL);
    plan.set_action(messages::SEND);
    plan.set_sign(sign);
    plan.set_encrypt(encrypt);

    const auto built = compose::build_for_destination(loaded, job_with(text), plan, reference_time(), *rng_);
    EXPECT_EQ(built.reason(), messages::REASON_NONE) << built.detail();
    EXPECT_FALSE(built.message().empty()) << built.detail();
    return built.message();
  }

  static std::string attime() { return " -attime " + std::to_string(unix_seconds(reference_time())); }

  /// Decrypts message.eml with a recipient's key into decrypted.eml.
  static command_result openssl_decrypt(const std::string& message, const std::string& recipient) {
    write_file(dir_->path() / "message.eml", message);
    return run_command("openssl cms -decrypt -binary -in " + path("message.eml") + " -inkey " +
                       pki_path(recipient + ".key.pem") + " -recip " + pki_path(recipient + ".cert.pem") + " -out " +
                       path("decrypted.eml"));
  }

  /// Verifies an S/MIME entity in OpenSSL's default text mode against the root alone.
  static command_result openssl_verify(const std::string& entity) {
    write_file(dir_->path() / "signed.eml", entity);
    return run_command("openssl cms -verify -in " + path("signed.eml") + " -CAfile " + pki_path("root.pem") +
                       " -purpose smimesign" + attime() + " -out " + path("verified.eml"));
  }

  static std::string openssl_print(const std::vector<uint8_t>& der) {
    write_file(dir_->path() / "print.der", der);
    return run_command("openssl cms -cmsout -print -inform DER -in " + path("print.der")).output;
  }

  /// Checks an Ed25519 signature with the Python checker, as OpenSSL 3.0 cannot.
  static command_result check_ed25519(const std::vector<uint8_t>& der, const std::string& content) {
    const std::string checker = source_path("tests/cms/check_ed25519_signed_data.py").string();
    write_file(dir_->path() / "ed25519.der", der);
    write_file(dir_->path() / "ed25519-content.bin", content);
    return run_command("/usr/bin/python3 " + shell_quote(checker) + " " + path("ed25519.der") + " " +
                       path("ed25519-content.bin") + " " + pki_path("device-ed25519.cert.pem"));
  }

  static command_result gpgsm_verify_detached(const detached_parts& parts) {
    write_file(dir_->path() / "gpgsm.p7s", parts.signature);
    write_file(dir_->path() / "gpgsm-content.bin", parts.content);
    return gpgsm("--verify " + path("gpgsm.p7s") + " " + path("gpgsm-content.bin"));
  }

  static command_result gpgsm_verify_opaque(const std::vector<uint8_t>& der) {
    write_file(dir_->path() / "gpgsm.p7m", der);
    return gpgsm("--verify --output " + path("gpgsm-out.bin") + " " + path("gpgsm.p7m"));
  }

  /// Checks a signed entity (multipart/signed or signed-data) with every checker
  /// that supports its algorithm and returns the content it carries.
  static std::string check_signed_entity(const std::string& entity, const signature_case& signature, bool detached) {
    const std::string content_type = entity.substr(0, entity.find("\r\n\r\n"));
    if (detached) {
      EXPECT_NE(content_type.find("multipart/signed"), std::string::npos) << content_type;
      EXPECT_EQ(header_parameter(entity, "micalg"), signature.micalg) << content_type;
    } else {
      EXPECT_NE(content_type.find("application/pkcs7-mime; smime-type=signed-data"), std::string::npos)
          << content_type;
    }

    const detached_parts parts = detached ? split_multipart_signed(entity) : detached_parts{};
    const std::vector<uint8_t> der = detached ? parts.signature : pkcs7_mime_der(entity);
    const std::string content = detached ? parts.content : encapsulated_content(der);
    EXPECT_NE(content.find("Content-Type: multipart/mixed"), std::string::npos) << content;

    if (signature.device == "device-ed25519") {
      const auto checked = check_ed25519(der, content);
      EXPECT_EQ(checked.exit_code, 0) << checked.output;
    } else {
      const auto verified = openssl_verify(entity);
      EXPECT_EQ(verified.exit_code, 0) << verified.output;
      EXPECT_NE(verified.output.find("Verification successful"), std::string::npos) << verified.output;
      EXPECT_NE(read_file(dir_->path() / "verified.eml").find("Second line."), std::string::npos);
    }

    // NOTE: gpgsm 2.2.40 recognises the Ed25519 key but fails the check with "DSA
    // requires the hash length to be a multiple of 8 bits", so Ed25519 is not checked there.
    if (gpgsm_available_ && signature.device != "device-ed25519") {
      const auto checked = detached ? gpgsm_verify_detached(parts) : gpgsm_verify_opaque(der);
      EXPECT_EQ(checked.exit_code, 0) << checked.output;
      EXPECT_NE(checked.output.find("[GNUPG:] GOODSIG"), std::string::npos) << checked.output;
      EXPECT_NE(checked.output.find("[GNUPG:] TRUST_FULLY"), std::string::npos) << checked.output;
    }
    return content;
  }

  /// Decrypts an encrypted message and checks its envelope type, cipher and key management.
  static std::string check_encrypted_message(const std::string& message, const key_management_case& management,
                                             const cipher_case& cipher) {
    const std::string smime_type = cipher.authenticated ? "authEnveloped-data" : "enveloped-data";
    EXPECT_EQ(header_parameter(body_of_headers(message), "smime-type"), smime_type);

    const std::string printed = openssl_print(pkcs7_mime_der(entity_of(message)));
    EXPECT_NE(printed.find("algorithm: " + cipher.openssl_name), std::string::npos) << printed;
    const bool agreement = management.recipient != "rsa";
    EXPECT_EQ(printed.find("d.kari:") != std::string::npos, agreement) << printed;
    EXPECT_EQ(printed.find("rsaesOaep") != std::string::npos, management.oaep) << printed;

    const auto decrypted = openssl_decrypt(message, management.recipient);
    EXPECT_EQ(decrypted.exit_code, 0) << decrypted.output;
    return decrypted.exit_code == 0 ? read_file(dir_->path() / "decrypted.eml") : "";
  }

  /// Returns the message's top-level entity: its MIME fields and body, without From, To and the like.
  static std::string entity_of(const std::string& message) {
    const size_t content_type = message.find("Content-Type:");
    return message.substr(content_type);
  }

  static std::string body_of_headers(const std::string& message) { return entity_of(message); }

  static Botan::AutoSeeded_RNG* rng_;
  static scratch_dir* dir_;
  static bool gpgsm_available_;
};

Botan::AutoSeeded_RNG* smime_matrix_test::rng_ = nullptr;
scratch_dir* smime_matrix_test::dir_ = nullptr;
bool smime_matrix_test::gpgsm_available_ = false;

TEST_F(smime_matrix_test, SignedOnlyEveryAlgorithmAndForm) {
  for (const auto& signature : signature_cases) {
    for (const bool detached : {true, false}) {
      SCOPED_TRACE(signature.name + (detached ? " detached" : " opaque"));
      const auto loaded = load(matrix_config(signature, detached ? "DETACHED" : "OPAQUE"));

      const std::string message = build(loaded, "", "plain@example.com", true, false);

      EXPECT_TRUE(has_only_crlf(message));
      check_signed_entity(entity_of(message), signature, detached);
    }
  }
}

TEST_F(smime_matrix_test, EncryptedOnlyEveryKeyManagementAndCipher) {
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED"));

  for (const auto& management : key_management_cases) {
    for (const auto& cipher : cipher_cases) {
      SCOPED_TRACE(entry_id(management, cipher));

      const std::string message =
          build(loaded, entry_id(management, cipher), recipient_address(management.recipient), false, true);
      const std::string decrypted = check_encrypted_message(message, management, cipher);

      EXPECT_NE(decrypted.find("Content-Type: multipart/mixed"), std::string::npos) << decrypted;
      EXPECT_NE(decrypted.find("Second line."), std::string::npos) << decrypted;
    }
  }
}

/// Signed and encrypted: one process per signature algorithm runs every key
/// management, cipher and form with it.
class smime_matrix_both_test : public smime_matrix_test, public ::testing::WithParamInterface<signature_case> {};

TEST_P(smime_matrix_both_test, EveryKeyManagementCipherAndForm) {
  const signature_case& signature = GetParam();

  for (const bool detached : {true, false}) {
    const auto loaded = load(matrix_config(signature, detached ? "DETACHED" : "OPAQUE"));
    for (const auto& management : key_management_cases) {
      for (const auto& cipher : cipher_cases) {
        SCOPED_TRACE(entry_id(management, cipher) + (detached ? " detached" : " opaque"));

        const std::string message =
            build(loaded, entry_id(management, cipher), recipient_address(management.recipient), true, true);
        const std::string decrypted = check_encrypted_message(message, management, cipher);
        if (decrypted.empty())
          continue;

        const std::string content = check_signed_entity(decrypted, signature, detached);
        EXPECT_NE(content.find("Second line."), std::string::npos) << content;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(signature, smime_matrix_both_test, ::testing::ValuesIn(signature_cases),
                         [](const ::testing::TestParamInfo<signature_case>& info) { return info.param.name; });

// Regression cases. They reuse the matrix PKI and the RSA PKCS#1 v1.5 SHA-256 signer.

TEST_F(smime_matrix_test, BareLfBodyVerifiesInTextMode) {
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED"));

  const std::string message = build(loaded, "", "plain@example.com", true, false, "first line\nsecond line\n");
  const auto verified = openssl_verify(entity_of(message));

  EXPECT_TRUE(has_only_crlf(message));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(read_file(dir_->path() / "verified.eml").find("second line"), std::string::npos);
}

TEST_F(smime_matrix_test, CrlfBodyNeverGetsDoubleCr) {
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED"));

  for (const bool encrypt : {false, true}) {
    SCOPED_TRACE(encrypt ? "signed and encrypted" : "signed");
    const std::string message = build(loaded, entry_id(key_management_cases.front(), cipher_cases.front()),
                                      recipient_address("rsa"), true, encrypt, "one\r\ntwo\r\n\r\nthree\r\n");
    const std::string signed_entity =
        encrypt ? check_encrypted_message(message, key_management_cases.front(), cipher_cases.front())
                : entity_of(message);

    EXPECT_EQ(message.find("\r\r\n"), std::string::npos);
    EXPECT_EQ(signed_entity.find("\r\r\n"), std::string::npos);
    EXPECT_TRUE(has_only_crlf(signed_entity));
    const auto verified = openssl_verify(signed_entity);
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }
}

TEST_F(smime_matrix_test, LongLineIsQuotedPrintable) {
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED"));
  const std::string long_line(1200, 'x');

  const std::string message = build(loaded, "", "plain@example.com", true, false, "short\n" + long_line + "\nend\n");
  const detached_parts parts = split_multipart_signed(entity_of(message));
  const auto verified = openssl_verify(entity_of(message));

  EXPECT_LE(longest_line(message), 998u);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(parts.content.find("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"),
            std::string::npos)
      << parts.content;

  // Python's email package decodes the declared transfer encoding independently.
  write_file(dir_->path() / "content.eml", parts.content);
  std::filesystem::create_directory(dir_->path() / "parts");
  const auto dumped = run_command("/usr/bin/python3 " + shell_quote(source_path("tests/mime/dump_mime_parts.py").string()) +
                                  " " + path("content.eml") + " " + path("parts"));
  ASSERT_EQ(dumped.exit_code, 0) << dumped.output;
  EXPECT_NE(dumped.output.find("defects 0"), std::string::npos) << dumped.output;
  EXPECT_EQ(read_file(dir_->path() / "parts" / "part-1.bin"), "short\r\n" + long_line + "\r\nend\r\n");
}

TEST_F(smime_matrix_test, MicalgMatchesSignerDigest) {
  for (const auto& signature : signature_cases) {
    SCOPED_TRACE(signature.name);
    const auto loaded = load(matrix_config(signature, "DETACHED"));

    const std::string message = build(loaded, "", "plain@example.com", true, false);
    const detached_parts parts = split_multipart_signed(entity_of(message));
    const std::string printed = openssl_print(parts.signature);

    EXPECT_EQ(header_parameter(entity_of(message), "micalg"), signature.micalg);
    const std::string digest_name = "sha" + signature.micalg.substr(4);  // "sha-384" -> "sha384"
    EXPECT_NE(printed.find("digestAlgorithm: \n          algorithm: " + digest_name + " "), std::string::npos)
        << printed;
  }
}

TEST_F(smime_matrix_test, NoLegacyPkcs7MediaTypes) {
  for (const std::string form : {"DETACHED", "OPAQUE"}) {
    const auto loaded = load(matrix_config(signature_cases.front(), form));
    for (const bool encrypt : {false, true}) {
      SCOPED_TRACE(form + (encrypt ? " encrypted" : ""));

      const std::string message = build(loaded, entry_id(key_management_cases.front(), cipher_cases.back()),
                                        recipient_address("rsa"), true, encrypt);
      const std::string inner =
          encrypt ? check_encrypted_message(message, key_management_cases.front(), cipher_cases.back()) : message;

      EXPECT_EQ(lower(message).find("application/x-pkcs7"), std::string::npos) << message;
      EXPECT_EQ(lower(inner).find("application/x-pkcs7"), std::string::npos) << inner;
      EXPECT_NE(inner.find("application/pkcs7-"), std::string::npos) << inner;
    }
  }
}

TEST_F(smime_matrix_test, OaepOnlyWhenConfigured) {
  const std::string plain_entry =
      "address_book { id: \"plain-rsa\" address: \"rsa@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/rsa.cert.pem\" }\n";
  const auto by_default = load(matrix_config(signature_cases.front(), "DETACHED", "", plain_entry));
  const auto globally = load(matrix_config(signature_cases.front(), "DETACHED", "key_transport: RSA_OAEP_SHA256", plain_entry));

  struct expectation {
    std::string name;
    const config::loaded_config* loaded;
    std::string id;
    bool oaep;
  };
  const std::vector<expectation> cases = {
      {"default", &by_default, "plain-rsa", false},
      {"per destination", &by_default, entry_id(key_management_cases[1], cipher_cases.front()), true},
      {"global", &globally, "plain-rsa", true},
  };

  for (const auto& expected : cases) {
    SCOPED_TRACE(expected.name);
    const std::string message = build(*expected.loaded, expected.id, recipient_address("rsa"), false, true);
    const std::string printed = openssl_print(pkcs7_mime_der(entity_of(message)));
    const auto decrypted = openssl_decrypt(message, "rsa");

    EXPECT_EQ(printed.find("rsaesOaep") != std::string::npos, expected.oaep) << printed;
    EXPECT_EQ(printed.find("algorithm: rsaEncryption") != std::string::npos, !expected.oaep) << printed;
    EXPECT_EQ(decrypted.exit_code, 0) << decrypted.output;
  }
}

TEST_F(smime_matrix_test, CipherFromEntryCapabilitiesOrDefault) {
  const std::string entries =
      "address_book { id: \"capable\" address: \"p256@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/p256.cert.pem\" capabilities: [AES128_GCM, AES256_CBC] }\n"
      "address_book { id: \"unknown\" address: \"p256@example.com\" kind: EMAIL encrypt: true "
      "certificate_file: \"pki/p256.cert.pem\" }\n";
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED", "", entries));

  const std::string capable = build(loaded, "capable", recipient_address("p256"), false, true);
  const std::string unknown = build(loaded, "unknown", recipient_address("p256"), false, true);
  const std::string capable_printed = openssl_print(pkcs7_mime_der(entity_of(capable)));
  const std::string unknown_printed = openssl_print(pkcs7_mime_der(entity_of(unknown)));

  EXPECT_EQ(header_parameter(entity_of(capable), "smime-type"), "authEnveloped-data");
  EXPECT_NE(capable_printed.find("algorithm: aes-128-gcm"), std::string::npos) << capable_printed;
  EXPECT_EQ(header_parameter(entity_of(unknown), "smime-type"), "enveloped-data");
  EXPECT_NE(unknown_printed.find("algorithm: aes-256-cbc"), std::string::npos) << unknown_printed;
}

TEST_F(smime_matrix_test, SubjectKeyIdentifierWhenConfigured) {
  const auto loaded = load(matrix_config(signature_cases.front(), "DETACHED", "recipient_identifier: SUBJECT_KEY_IDENTIFIER"));

  for (const auto& management : key_management_cases) {
    SCOPED_TRACE(management.name);
    const std::string message =
        build(loaded, entry_id(management, cipher_cases[2]), recipient_address(management.recipient), false, true);
    const std::string printed = openssl_print(pkcs7_mime_der(entity_of(message)));
    const auto decrypted = openssl_decrypt(message, management.recipient);

    EXPECT_EQ(printed.find("issuerAndSerialNumber"), std::string::npos) << printed;
    EXPECT_TRUE(printed.find("d.subjectKeyIdentifier:") != std::string::npos ||
                printed.find("d.rKeyId:") != std::string::npos)
        << printed;
    EXPECT_EQ(decrypted.exit_code, 0) << decrypted.output;
  }
}

TEST_F(smime_matrix_test, NestedMultipartVerifiesDetached) {
  // compose only builds text plus attachments, so this entity is written by
  // hand: multipart/mixed holding multipart/alternative and a PDF attachment.
  const std::string entity =
      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
      "--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain text.\r\n"
      "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML text.</p>\r\n"
      "--inner--\r\n"
      "--outer\r\n"
      "Content-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\nJVBERi0xLjQKJSVFT0YK\r\n"
      "--outer--\r\n";
  const auto device_key = certs::load_private_key((pki() / "device-rsa.key.pem").string());
  const auto device_certificate = certs::load_certificate((pki() / "device-rsa.cert.pem").string());
  const auto intermediate = certs::load_certificate((pki() / "intermediate.pem").string());
  cms::signing_options options;
  options.signing_time = reference_time();

  const auto signature = cms::sign(std::vector<uint8_t>(entity.begin(), entity.end()),
                                   {&device_certificate, device_key.get(), {intermediate}}, options, *rng_);
  const std::string signed_entity = mime::build_signed_entity(entity, signature, "sha-256", "=_signed_nested");
  const auto verified = openssl_verify(signed_entity);

  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(read_file(dir_->path() / "verified.eml").find("<p>HTML text.</p>"), std::string::npos);
}

/// Issues a CA certificate below `issuer` that may have `path_length` CAs below it.
issued_identity issue_ca(const issued_identity& issuer, const std::string& name, size_t path_length,
                         Botan::RandomNumberGenerator& rng) {
  Botan::X509_Cert_Options options;
  options.common_name = name;
  options.organization = "Chain Order Test";
  options.CA_key(path_length);
  auto key = std::make_unique<Botan::RSA_PrivateKey>(rng, 2048);
  const auto request = Botan::X509::create_cert_req(options, *key, "SHA-256", rng);
  const Botan::X509_CA ca(issuer.certificate, *issuer.private_key, "SHA-256", rng);
  auto certificate = ca.sign_request(request, rng, certs::to_asn1_time(long_window.not_before),
                                     certs::to_asn1_time(long_window.not_after));
  return {std::move(certificate), std::move(key)};
}

TEST_F(smime_matrix_test, ChainFileOrderDoesNotMatter) {
  // root -> upper CA -> lower CA -> device: two intermediates, so order can differ.
  Botan::X509_Cert_Options root_options("Chain Order Root");
  root_options.CA_key(2);
  root_options.start = certs::to_asn1_time(long_window.not_before);
  root_options.end = certs::to_asn1_time(long_window.not_after);
  auto root_key = std::make_unique<Botan::RSA_PrivateKey>(*rng_, 2048);
  auto root_certificate = Botan::X509::create_self_signed_cert(root_options, *root_key, "SHA-256", *rng_);
  const issued_identity root{std::move(root_certificate), std::move(root_key)};
  const issued_identity upper = issue_ca(root, "Chain Order Upper CA", 1, *rng_);
  const issued_identity lower = issue_ca(upper, "Chain Order Lower CA", 0, *rng_);
  pki_builder builder(*rng_, "Chain Order Test", long_window);
  write_identity("chain-device", builder.issue_email(lower, "Router chain", device_address, long_window));
  write_file(pki() / "chain-root.pem", to_pem(root.certificate));
  write_file(pki() / "upper.pem", to_pem(upper.certificate));
  write_file(pki() / "lower.pem", to_pem(lower.certificate));
  write_file(pki() / "upper-lower.pem", to_pem(upper.certificate) + to_pem(lower.certificate));
  write_file(pki() / "lower-upper.pem", to_pem(lower.certificate) + to_pem(upper.certificate));

  const std::vector<std::string> chain_settings = {
      "chain_files: \"pki/upper-lower.pem\"", "chain_files: \"pki/lower-upper.pem\"",
      "chain_files: \"pki/upper.pem\" chain_files: \"pki/lower.pem\"",
      "chain_files: \"pki/lower.pem\" chain_files: \"pki/upper.pem\""};
  for (const std::string& chain : chain_settings) {
    SCOPED_TRACE(chain);
    std::string text = matrix_config(signature_cases.front(), "DETACHED");
    text = replace_once(text, "pki/device-rsa.cert.pem", "pki/chain-device.cert.pem");
    text = replace_once(text, "pki/device-rsa.key.pem", "pki/chain-device.key.pem");
    text = replace_once(text, "chain_files: \"pki/intermediate.pem\"", chain);
    text = replace_once(text, "trust_anchor_files: \"pki/root.pem\"", "trust_anchor_files: \"pki/chain-root.pem\"");
    const auto loaded = load(text);

    const std::string message = build(loaded, "", "plain@example.com", true, false);
    write_file(dir_->path() / "signed.eml", entity_of(message));
    const auto verified = run_command("openssl cms -verify -in " + path("signed.eml") + " -CAfile " +
                                      pki_path("chain-root.pem") + " -purpose smimesign" + attime() + " -out " +
                                      path("verified.eml"));

    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }
}

} // namespace
} // namespace router::testing
