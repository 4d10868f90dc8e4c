// Body decoding for the MIME reader and the search for the S/MIME entity of a
// message: multipart/signed (RFC 1847, RFC 8551 3.5.3) or application/pkcs7-mime
// (RFC 8551 3.2).
#include "runtime/mime/reader.hpp"

#include "runtime/common/error.hpp"

#include <botan/asn1_obj.h>
#include <botan/base64.h>
#include <botan/ber_dec.h>

#include <cctype>

namespace router::mime {

namespace {

bool is_signature_protocol(const std::string& protocol) {
  return protocol == "application/pkcs7-signature" || protocol == "application/x-pkcs7-signature";
}

bool is_pkcs7_mime(const content_type& type) {
  return type.media_type() == "application/pkcs7-mime" || type.media_type() == "application/x-pkcs7-mime";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// Returns the length of the soft line break at `position` ("=", optional
/// trailing white space, then CR LF or LF), or 0 when there is none.
size_t soft_break_length(std::string_view text, size_t position) {
  size_t end = position + 1;
  while (end < text.size() && (text[end] == ' ' || text[end] == '\t'))
    ++end;
  if (end < text.size() && text[end] == '\n')
    return end + 1 - position;
  if (end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n')
    return end + 2 - position;
  return 0;
}

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

smime_entity read_signed(const entity& multipart) {
  if (multipart.parts.size() != 2)
    throw router_error("the multipart/signed entity has " + std::to_string(multipart.parts.size()) +
                       " parts instead of 2 (the content and the signature)");
  const entity& signature = multipart.parts[1];
  if (!is_signature_protocol(signature.type.media_type()))
    throw router_error("the second part of multipart/signed is " + signature.type.media_type() +
                       ", not application/pkcs7-signature");

  smime_entity found;
  found.kind = smime_kind::multipart_signed;
  found.signed_bytes = multipart.parts[0].raw;
  found.signature = decode_body(signature);
  found.micalg = lower(multipart.type.parameter("micalg"));
  return found;
}

smime_entity read_pkcs7_mime(const entity& part) {
  smime_entity found;
  found.kind = smime_kind::pkcs7_mime;
  found.der = decode_body(part);
  found.smime_type = part.type.parameter("smime-type");
  if (found.smime_type.empty())
    found.smime_type = detect_smime_type(found.der);
  return found;
}

} // namespace

std::vector<uint8_t> decode_base64(std::string_view text) {
  try {
    const auto decoded = Botan::base64_decode(text.data(), text.size(), true);
    return std::vector<uint8_t>(decoded.begin(), decoded.end());
  } catch (const Botan::Exception& e) {
    throw router_error(std::string("invalid base64 body: ") + e.what());
  }
}

std::vector<uint8_t> decode_quoted_printable(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '=') {
      out.push_back(static_cast<uint8_t>(c));
      continue;
    }

    const size_t soft_break = soft_break_length(text, i);
    if (soft_break > 0) {
      i += soft_break - 1;
      continue;
    }
    const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      out.push_back('=');
      continue;
    }
    out.push_back(static_cast<uint8_t>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::vector<uint8_t> decode_body(const entity& part) {
  const std::string& encoding = part.transfer_encoding;
  if (encoding == "base64")
    return decode_base64(part.body);
  if (encoding == "quoted-printable")
    return decode_quoted_printable(part.body);
  if (encoding == "7bit" || encoding == "8bit" || encoding == "binary")
    return std::vector<uint8_t>(part.body.begin(), part.body.end());
  throw router_error("unknown Content-Transfer-Encoding \"" + encoding + "\"");
}

smime_entity find_smime(const entity& message) {
  if (message.type.media_type() == "multipart/signed" &&
      is_signature_protocol(lower(message.type.parameter("protocol"))))
    return read_signed(message);
  if (is_pkcs7_mime(message.type))
    return read_pkcs7_mime(message);

  for (const entity& part : message.parts) {
    smime_entity found = find_smime(part);
    if (found.kind != smime_kind::none)
      return found;
  }
  return {};
}

std::string detect_smime_type(const std::vector<uint8_t>& der) {
  // ContentInfo ::= SEQUENCE { contentType OID, ... } (RFC 5652 section 3)
  const std::vector<std::pair<Botan::OID, std::string>> known = {
      {Botan::OID{1, 2, 840, 113549, 1, 7, 2}, "signed-data"},
      {Botan::OID{1, 2, 840, 113549, 1, 7, 3}, "enveloped-data"},
      {Botan::OID{1, 2, 840, 113549, 1, 9, 16, 1, 23}, "authEnveloped-data"},
      {Botan::OID{1, 2, 840, 113549, 1, 9, 16, 1, 9}, "compressed-data"}};
  try {
    Botan::OID type;
    Botan::BER_Decoder(der).start_cons(Botan::SEQUENCE).decode(type);
    for (const auto& [oid, name] : known) {
      if (oid == type)
        return name;
    }
  } catch (const Botan::Exception&) {
    // Not a ContentInfo: the caller sees an unknown type.
  }
  return "";
}

} // namespace router::mime
