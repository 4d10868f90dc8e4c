// A throwaway PKI and a matching router config written into a scratch folder.
//
// Every window is fixed around `reference_time` (2026-06-01T00:00:00Z), so the
// tests never depend on the real date; checkers get the same time through
// `openssl -attime`.
#pragma once

#include "tests/common/test_support.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace router::testing {

/// The fixed "now" of tests that use test_pki.
std::chrono::system_clock::time_point reference_time();

/// Writes, under dir/pki: root.pem, intermediate.pem, device.cert.pem and
/// device.key.pem, and <id>.cert.pem / <id>.key.pem for the address-book ids
/// alice, bob (valid), carol (expired 2026-01-01), erin (expires
/// 2026-06-01T12:00:00Z) and fax (Internet fax, valid).
void write_test_pki(const std::filesystem::path& dir);

/// Returns a config text for the PKI in dir: address book alice, bob, carol,
/// dave (no certificate), erin, fax; signature mode SET_INDIVIDUALLY; every
/// function set to encrypt and sign except STANDARD_ADDRESS (neither) and
/// SMTP_RECEPTION (sign only); delivery to dir/outbox. `extra` is appended; it
/// may add repeated entries, but a scalar field set twice is a parse error.
std::string test_config_text(const std::string& extra = "");

/// Returns text with the first occurrence of `from` replaced by `to`; throws
/// std::invalid_argument when `from` does not occur, so a stale test fails loudly.
std::string replace_once(std::string text, const std::string& from, const std::string& to);

} // namespace router::testing
