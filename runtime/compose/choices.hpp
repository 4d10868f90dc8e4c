// The algorithm, signer, recipient and header choices for one message, taken
// from the config and the destination's address-book entry. Shared by the
// in-memory builder (compose.cpp) and the file-backed one (file_build.cpp), so
// both make the same choices. Internal to runtime/compose.
#pragma once

#include "messages.pb.h"
#include "runtime/cms/cms.hpp"
#include "runtime/config/config.hpp"
#include "runtime/mime/mime.hpp"

#include <botan/rng.h>

#include <chrono>
#include <string>
#include <vector>

namespace router::compose::detail {

using time_point = std::chrono::system_clock::time_point;

/// The device signer and the options it signs with.
struct signing_choice {
  cms::signer_identity signer;
  cms::signing_options options;
  std::string description;  // e.g. "signed with RSA sha-256", or "... (opaque)"
};

/// The content cipher and recipient for one encrypted destination.
struct encryption_choice {
  cms::content_cipher cipher = cms::content_cipher::aes256_cbc;
  std::vector<cms::recipient> recipients;
  std::string description;  // e.g. "encrypted with AES-256-CBC and RSAES-OAEP"
};

/// Returns `bytes` random octets as lower-case hex.
std::string random_hex(Botan::RandomNumberGenerator& rng, size_t bytes);

/// Returns the domain of an address, or "localhost" when it has none.
std::string domain_of(const std::string& address);

int64_t unix_seconds(time_point now);

/// Returns how the device signs at `now`. The config must hold a device key.
signing_choice choose_signing(const config::loaded_config& config, time_point now);

/// Returns how a destination is encrypted: its own cipher and key transport
/// settings, else its capabilities, else the configured defaults.
encryption_choice choose_encryption(const config::loaded_config& config, const std::string& destination_id,
                                    const Botan::X509_Certificate& certificate);

/// Returns the top-level header fields of a message to `to`. Draws the
/// Message-ID's random part from `rng`.
mime::message_headers headers_for(const config::loaded_config& config, const std::string& to,
                                  const std::string& subject, const std::string& job_id, time_point now,
                                  Botan::RandomNumberGenerator& rng);

/// Returns the Received: fields of the job's received message, in order and
/// as received, for the top of the message built from it: RFC 5321 section
/// 4.4 forbids dropping them. Empty for a job that routes no received message.
/// A field that is not whole (see mime::is_trace_field) is left out.
std::vector<std::string> received_trace(const messages::job_request& job);

} // namespace router::compose::detail
