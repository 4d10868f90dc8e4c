// RecipientInfo producers (RFC 5652 section 6.2) for EnvelopedData and
// AuthEnvelopedData. Internal to runtime/cms; not part of the module's interface.
#pragma once

#include "runtime/cms/cms.hpp"

#include <botan/rng.h>
#include <botan/secmem.h>

namespace router::cms::recipient_info {

/// Encodes the RecipientInfo that gives `recipient` the content-encryption key:
/// KeyTransRecipientInfo for an RSA certificate, KeyAgreeRecipientInfo for an
/// EC certificate. Throws router_error for any other key.
bytes encode(const recipient& recipient, const Botan::secure_vector<uint8_t>& content_key,
             Botan::RandomNumberGenerator& rng);

/// Returns the RecipientInfo version encode() writes for this recipient; the
/// EnvelopedData version depends on it (RFC 5652 section 6.1).
size_t version(const recipient& recipient);

} // namespace router::cms::recipient_info
