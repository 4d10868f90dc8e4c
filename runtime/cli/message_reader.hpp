// Reads a stored S/MIME message and verifies or decrypts it: the glue between
// the MIME reader and the CMS reader that `smime-router verify` and
// `smime-router decrypt` use.
//
// A message is a MIME message (multipart/signed or application/pkcs7-mime), a
// PEM CMS object or a DER ContentInfo. Bad input does not throw: it comes back
// as a result with status `malformed` and a detail.
#pragma once

#include "runtime/cms/reader.hpp"

#include <string_view>

namespace router::cli {

/// Verifies the S/MIME signature of a message. A multipart/signed first part
/// that fails the digest check is checked again with CR LF line ends, because
/// RFC 8551 3.1.1 signs the canonical form and stored mail often has bare LF.
cms::verify_result verify_message(std::string_view message, const cms::verify_options& options);

/// Decrypts an enveloped or authenticated-enveloped message with the recipient's
/// key and certificate and returns the inner entity.
cms::decrypt_result decrypt_message(std::string_view message, const Botan::Private_Key& key,
                                    const Botan::X509_Certificate& certificate, Botan::RandomNumberGenerator& rng);

} // namespace router::cli
