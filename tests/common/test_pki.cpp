#include "tests/common/test_pki.hpp"

#include "runtime/certs/pki_builder.hpp"

#include <botan/auto_rng.h>

#include <stdexcept>

namespace router::testing {

namespace {

void write_identity(const std::filesystem::path& pki_dir, const std::string& id,
                    const certs::issued_identity& identity) {
  write_file(pki_dir / (id + ".cert.pem"), certs::to_pem(identity.certificate));
  write_file(pki_dir / (id + ".key.pem"), certs::to_pem(*identity.private_key));
}

} // namespace

std::chrono::system_clock::time_point reference_time() {
  return utc("2026-06-01T00:00:00Z");
}

void write_test_pki(const std::filesystem::path& dir) {
  const std::filesystem::path pki_dir = dir / "pki";
  std::filesystem::create_directories(pki_dir);
  Botan::AutoSeeded_RNG rng;

  const certs::validity_window long_window{utc("2025-01-01T00:00:00Z"), utc("2035-01-01T00:00:00Z")};
  certs::pki_builder pki(rng, "Router Test Root CA", long_window);
  const auto intermediate = pki.issue_intermediate("Router Test Issuing CA", long_window);
  write_file(pki_dir / "root.pem", certs::to_pem(pki.root().certificate));
  write_file(pki_dir / "intermediate.pem", certs::to_pem(intermediate.certificate));

  write_identity(pki_dir, "device",
                 pki.issue_email(intermediate, "Router Test Device", "router@device.example.com", long_window));
  write_identity(pki_dir, "alice", pki.issue_email(intermediate, "Alice", "alice@example.com", long_window));
  write_identity(pki_dir, "bob", pki.issue_email(intermediate, "Bob", "bob@example.com", long_window));
  write_identity(pki_dir, "carol",
                 pki.issue_email(intermediate, "Carol", "carol@example.com",
                                 {utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")}));
  write_identity(pki_dir, "erin",
                 pki.issue_email(intermediate, "Erin", "erin@example.com",
                                 {utc("2025-01-01T00:00:00Z"), utc("2026-06-01T12:00:00Z")}));
  write_identity(pki_dir, "fax", pki.issue_email(intermediate, "Fax", "fax@ifax.example.com", long_window));
}

std::string test_config_text(const std::string& extra) {
  std::string text = R"(signature_mode: SET_INDIVIDUALLY
address_book { id: "alice" name: "Alice" address: "alice@example.com" kind: EMAIL encrypt: true sign: true certificate_file: "pki/alice.cert.pem" }
address_book { id: "bob" name: "Bob" address: "bob@example.com" kind: EMAIL encrypt: true certificate_file: "pki/bob.cert.pem" }
address_book { id: "carol" name: "Carol" address: "carol@example.com" kind: EMAIL encrypt: true certificate_file: "pki/carol.cert.pem" }
address_book { id: "dave" name: "Dave" address: "dave@example.com" kind: EMAIL }
address_book { id: "erin" name: "Erin" address: "erin@example.com" kind: EMAIL encrypt: true certificate_file: "pki/erin.cert.pem" }
address_book { id: "fax" name: "Fax" address: "fax@ifax.example.com" kind: INTERNET_FAX encrypt: true certificate_file: "pki/fax.cert.pem" }
functions { function: STANDARD_ADDRESS }
functions { function: EMAIL_TX_RESULTS encrypt: true sign: true }
functions { function: FOLDER_TRANSFER_RESULT_REPORT encrypt: true sign: true }
functions { function: STORE encrypt: true sign: true }
functions { function: PERSONAL_BOX encrypt: true sign: true }
functions { function: TRANSFER_BOX encrypt: true sign: true }
functions { function: FORWARDING encrypt: true sign: true }
functions { function: SMTP_RECEPTION sign: true }
device {
  certificate_file: "pki/device.cert.pem"
  private_key_file: "pki/device.key.pem"
  chain_files: "pki/intermediate.pem"
  sender_address: "router@device.example.com"
  admin_address: "admin@device.example.com"
}
trust_anchor_files: "pki/root.pem"
delivery { outbox { directory: "outbox" } }
)";
  return text + extra;
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto found = text.find(from);
  if (found == std::string::npos)
    throw std::invalid_argument("text to replace not found: " + from);
  return text.replace(found, from.size(), to);
}

} // namespace router::testing
