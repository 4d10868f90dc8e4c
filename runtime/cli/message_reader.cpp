// Finds the CMS object in a stored message (MIME, PEM or DER) and hands it to
// the CMS reader.
#include "runtime/cli/message_reader.hpp"

#include "runtime/mime/mime.hpp"
#include "runtime/mime/reader.hpp"

#include <botan/data_src.h>
#include <botan/pem.h>

namespace router::cli {

namespace {

/// The CMS object of a message and, for multipart/signed, the signed bytes.
struct cms_object {
  cms::bytes der;
  std::string smime_type;  // "" when the message is DER or PEM
  bool detached = false;
  std::string signed_bytes;
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// Extracts the CMS object; throws router_error when there is none.
cms_object extract(std::string_view message) {
  if (!message.empty() && static_cast<uint8_t>(message.front()) == 0x30)
    return {cms::bytes(message.begin(), message.end()), "", false, ""};

  if (starts_with(message, "-----BEGIN")) {
    std::string label;
    const std::string pem(message);
    Botan::DataSource_Memory source(pem);
    const auto der = Botan::PEM_Code::decode(source, label);
    return {cms::bytes(der.begin(), der.end()), "", false, ""};
  }

  const mime::smime_entity found = mime::find_smime(mime::parse_entity(message));
  if (found.kind == mime::smime_kind::multipart_signed)
    return {found.signature, "signed-data", true, found.signed_bytes};
  if (found.kind == mime::smime_kind::pkcs7_mime)
    return {found.der, found.smime_type, false, ""};
  throw router_error("the message has no S/MIME entity (multipart/signed or application/pkcs7-mime)");
}

bool has_bare_lf(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      return true;
  }
  return false;
}

template <typename Result, typename Status>
Result malformed(Status status, const std::string& detail) {
  Result result;
  result.status = status;
  result.detail = detail;
  return result;
}

} // namespace

cms::verify_result verify_message(std::string_view message, const cms::verify_options& options) {
  cms_object object;
  try {
    object = extract(message);
  } catch (const std::exception& e) {
    return malformed<cms::verify_result>(cms::verify_status::malformed, e.what());
  }

  if (!object.detached) {
    if (cms::detect_content_kind(object.der) != cms::content_kind::signed_data)
      return malformed<cms::verify_result>(cms::verify_status::malformed,
                                           "the message is not signed (smime-type \"" + object.smime_type +
                                               "\"); decrypt it first if it is encrypted");
    return cms::verify_signed_data(object.der, options);
  }

  const cms::bytes content(object.signed_bytes.begin(), object.signed_bytes.end());
  cms::verify_result result = cms::verify_signed_data(object.der, content, options);
  if (result.status != cms::verify_status::digest_mismatch || !has_bare_lf(object.signed_bytes))
    return result;

  const std::string canonical = mime::canonicalize_line_ends(object.signed_bytes);
  return cms::verify_signed_data(object.der, cms::bytes(canonical.begin(), canonical.end()), options);
}

cms::decrypt_result decrypt_message(std::string_view message, const Botan::Private_Key& key,
                                    const Botan::X509_Certificate& certificate, Botan::RandomNumberGenerator& rng) {
  cms_object object;
  try {
    object = extract(message);
  } catch (const std::exception& e) {
    return malformed<cms::decrypt_result>(cms::decrypt_status::malformed, e.what());
  }

  const cms::content_kind kind = cms::detect_content_kind(object.der);
  if (object.detached || (kind != cms::content_kind::enveloped_data && kind != cms::content_kind::auth_enveloped_data))
    return malformed<cms::decrypt_result>(cms::decrypt_status::malformed,
                                          "the message is not encrypted: it holds no EnvelopedData or "
                                          "AuthEnvelopedData");
  return cms::decrypt(object.der, key, certificate, rng);
}

} // namespace router::cli
