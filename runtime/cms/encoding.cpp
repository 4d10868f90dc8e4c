// DER building blocks shared by the SignedData, EnvelopedData and
// AuthEnvelopedData producers.
#include "runtime/cms/encoding.hpp"

#include <botan/bigint.h>
#include <botan/pkix_types.h>

#include <algorithm>
#include <stdexcept>

namespace router::cms::encoding {

const Botan::OID& digest_oid(digest_algorithm digest) {
  switch (digest) {
    case digest_algorithm::sha256:
      return id_sha256;
    case digest_algorithm::sha384:
      return id_sha384;
    case digest_algorithm::sha512:
      return id_sha512;
  }
  throw std::logic_error("unhandled digest_algorithm");
}

std::string sha2_hash_name(const Botan::OID& oid) {
  if (oid == id_sha224)
    return "SHA-224";
  if (oid == id_sha256)
    return "SHA-256";
  if (oid == id_sha384)
    return "SHA-384";
  if (oid == id_sha512)
    return "SHA-512";
  return "";
}

std::string botan_hash_name(digest_algorithm digest) {
  switch (digest) {
    case digest_algorithm::sha256:
      return "SHA-256";
    case digest_algorithm::sha384:
      return "SHA-384";
    case digest_algorithm::sha512:
      return "SHA-512";
  }
  throw std::logic_error("unhandled digest_algorithm");
}

Botan::AlgorithmIdentifier digest_algorithm_identifier(digest_algorithm digest) {
  return Botan::AlgorithmIdentifier(digest_oid(digest), Botan::AlgorithmIdentifier::USE_EMPTY_PARAM);
}

size_t digest_length(digest_algorithm digest) {
  switch (digest) {
    case digest_algorithm::sha256:
      return 32;
    case digest_algorithm::sha384:
      return 48;
    case digest_algorithm::sha512:
      return 64;
  }
  throw std::logic_error("unhandled digest_algorithm");
}

bytes sorted_set_contents(std::vector<bytes> elements) {
  // Lexicographic order of the encodings; a shorter encoding that is a prefix
  // of a longer one sorts first, which matches X.690's padding with zeros.
  std::sort(elements.begin(), elements.end());

  bytes contents;
  for (const bytes& element : elements)
    contents.insert(contents.end(), element.begin(), element.end());
  return contents;
}

void encode_issuer_and_serial_number(Botan::DER_Encoder& der, const Botan::X509_Certificate& certificate) {
  // NOTE: Botan stores the serial as an unsigned magnitude, so a certificate
  // with a negative serial (invalid under RFC 5280, but seen) is not matched.
  der.start_cons(Botan::SEQUENCE)
      .raw_bytes(certificate.raw_issuer_dn())                          // issuer
      .encode(Botan::BigInt::decode(certificate.serial_number()))      // serialNumber
      .end_cons();
}

bytes der_header(uint8_t identifier, uint64_t length) {
  bytes header{identifier};
  if (length < 0x80) {
    header.push_back(static_cast<uint8_t>(length));
    return header;
  }

  // Long form: 0x80 plus the count of length octets, then the length big-endian.
  bytes octets;
  for (uint64_t rest = length; rest != 0; rest >>= 8)
    octets.insert(octets.begin(), static_cast<uint8_t>(rest & 0xFF));
  header.push_back(static_cast<uint8_t>(0x80 | octets.size()));
  header.insert(header.end(), octets.begin(), octets.end());
  return header;
}

bytes content_info(const Botan::OID& content_type, const bytes& content) {
  bytes out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .encode(content_type)  // contentType
      .start_explicit(0)     // content [0] EXPLICIT
      .raw_bytes(content)
      .end_explicit()
      .end_cons();
  return out;
}

std::string public_key_algorithm(const Botan::X509_Certificate& certificate) {
  // Botan 2.19's load_public_key() picks the key type by the part of the OID's
  // name before any '/', and that is the loaded key's algo_name(). Reading it
  // from the OID avoids loading an RSA key, which costs a modular division.
  const std::string name = certificate.subject_public_key_algo().get_oid().to_formatted_string();
  return name.substr(0, name.find('/'));
}

std::string describe(const Botan::X509_Certificate& certificate) {
  return certificate.subject_dn().to_string();
}

} // namespace router::cms::encoding
