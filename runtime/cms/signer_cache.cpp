#include "runtime/cms/signer_cache.hpp"

#include "runtime/certs/certs.hpp"

#include <stdexcept>

namespace router::cms {

signer_cache::signer_cache(std::shared_ptr<const Botan::Private_Key> key, Botan::RandomNumberGenerator& rng)
    : key_(std::move(key)), rng_(rng) {
  if (!key_)
    throw std::invalid_argument("signer_cache needs a private key, but the key is null");
}

Botan::PK_Signer& signer_cache::signer_for(const std::string& padding, Botan::Signature_Format format) {
  for (const auto& cached : entries_) {
    if (cached.padding == padding && cached.format == format)
      return *cached.signer;
  }
  auto signer = std::make_unique<Botan::PK_Signer>(*key_, rng_, padding, format);
  entries_.push_back(entry{padding, format, std::move(signer)});
  return *entries_.back().signer;
}

bool signer_cache::key_matches(const Botan::X509_Certificate& certificate) {
  // X509_Certificate::operator== compares the signed body and the signature, so
  // only the very certificate that matched before skips the comparison.
  if (matching_certificate_ && *matching_certificate_ == certificate)
    return true;
  if (!certs::key_matches_certificate(*key_, certificate))
    return false;
  matching_certificate_ = certificate;
  return true;
}

} // namespace router::cms
