// Names and properties of the CMS algorithm choices. The producers themselves
// are in signed_data.cpp and enveloped_data.cpp.
#include "runtime/cms/cms.hpp"

#include <stdexcept>

namespace router::cms {

std::string micalg_name(digest_algorithm digest) {
  // The micalg values of multipart/signed (RFC 8551).
  switch (digest) {
    case digest_algorithm::sha256:
      return "sha-256";
    case digest_algorithm::sha384:
      return "sha-384";
    case digest_algorithm::sha512:
      return "sha-512";
  }
  throw std::logic_error("unhandled digest_algorithm");
}

bool is_authenticated(content_cipher cipher) {
  return cipher == content_cipher::aes128_gcm || cipher == content_cipher::aes256_gcm;
}

} // namespace router::cms
