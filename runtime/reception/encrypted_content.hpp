// Detection of S/MIME-encrypted mail, which the device cannot receive.
//
// Only the top-level content of a message counts. It is encrypted when its
// Content-Type is application/pkcs7-mime or application/x-pkcs7-mime with
// smime-type enveloped-data or authEnveloped-data (names and values in any
// case). Otherwise, for those two types and for application/octet-stream named
// *.p7m, the body is decoded (base64, quoted-printable or as it is) and
// the content type OID of its CMS ContentInfo decides: id-envelopedData
// (1.2.840.113549.1.7.3) and id-ct-authEnvelopedData (1.2.840.113549.1.9.16.1.23)
// are encrypted. Signed data, certs-only and compressed data are not.
//
// Malformed input does not throw. A message whose header or body cannot be read
// is routed as ordinary content unless its smime-type says it is encrypted,
// because nothing shows it is. An encrypted part inside a multipart (an
// attached .p7m file) does not make the message encrypted.
#pragma once

#include <string>
#include <string_view>

namespace router::reception {

/// The outcome of the check, with a reason for logs.
struct encryption_check {
  bool encrypted = false;
  std::string reason;  // e.g. "application/pkcs7-mime; smime-type=enveloped-data"; empty when not encrypted
};

/// Checks whether a received message's content is S/MIME-encrypted. Malformed
/// input does not throw.
encryption_check check_encrypted_content(std::string_view message);

} // namespace router::reception
