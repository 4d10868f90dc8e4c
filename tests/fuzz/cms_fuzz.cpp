// libFuzzer target for the CMS reader: BER normalization, the ContentInfo,
// SignedData and (Auth)EnvelopedData decoders, verification, and decryption
// as an RSA and as an EC recipient.
// Decoders may throw cms::decode_error; verify and decrypt must not throw at
// all, so any other exception ends the run as a crash.
#include "runtime/cms/ber_reader.hpp"
#include "runtime/cms/reader.hpp"
#include "tests/fuzz/fuzz_identity.hpp"

#include <botan/chacha_rng.h>

#include <cstddef>
#include <cstdint>

namespace {

using namespace router;

void decode_all(const cms::bytes& input) {
  try {
    const cms::content_info info = cms::decode_content_info(input);
    if (info.content_type == Botan::OID{1, 2, 840, 113549, 1, 7, 2}) {
      const cms::signed_data data = cms::decode_signed_data(info);
      for (const cms::signer_info& signer : data.signer_infos)
        signer.sid.to_string();
      return;
    }
    cms::decode_enveloped_data(info);
  } catch (const cms::decode_error&) {
    // Malformed input is expected here.
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzzing::fuzz_pki& pki = fuzzing::shared_fuzz_pki();
  static Botan::ChaCha_RNG rng(Botan::secure_vector<uint8_t>(32, 0x17));
  static const cms::bytes detached_content = {'f', 'u', 'z', 'z', '\r', '\n'};

  const cms::bytes input(data, data + size);
  cms::detect_content_kind(input);
  decode_all(input);

  cms::verify_options options;
  options.trust_anchors = {pki.builder->root().certificate};
  options.validation_time = fuzzing::fuzz_time();
  cms::verify_signed_data(input, options);
  cms::verify_signed_data(input, detached_content, options);

  cms::decrypt(input, *pki.recipient.private_key, pki.recipient.certificate, rng);
  cms::decrypt(input, *pki.ec_recipient.private_key, pki.ec_recipient.certificate, rng);
  return 0;
}
