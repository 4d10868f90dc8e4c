// libFuzzer target for the MIME reader: entity parsing, the S/MIME entity
// search and the transfer decodings. The reader may throw router_error on bad
// input; any other exception ends the run as a crash. The received-message
// split and the encrypted-mail check of SMTP reception must not throw at all.
#include "runtime/common/error.hpp"
#include "runtime/mime/reader.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/reception/encrypted_content.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace router;

void decode_parts(const mime::entity& entity) {
  try {
    mime::decode_body(entity);
  } catch (const router_error&) {
    // An invalid body encoding is expected here.
  }
  for (const mime::entity& part : entity.parts)
    decode_parts(part);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mime::detect_smime_type(std::vector<uint8_t>(data, data + size));
  mime::received_content_entity(text);
  mime::find_lone_line_break(text);
  reception::check_encrypted_content(text);

  mime::reader_limits limits;
  limits.max_parts = 64;
  try {
    const mime::entity message = mime::parse_entity(text, limits);
    decode_parts(message);
    mime::find_smime(message);
  } catch (const router_error&) {
    // Malformed input is expected here.
  }
  return 0;
}
