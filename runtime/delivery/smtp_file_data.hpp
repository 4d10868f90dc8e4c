// SMTP DATA content from a message file, for messages too large to hold in
// memory. The SMTP client sends what this produces in place of
// dot_stuff(message) when an envelope carries a message_file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

namespace router::delivery {

/// Reads a message file in chunks of `chunk_size` octets and passes each
/// chunk to `send` with SMTP dot-stuffing (RFC 5321 4.5.2) applied, then the
/// end-of-data line. A line that starts in one chunk and continues in the next
/// is stuffed as if the file were one piece, so the output equals
/// dot_stuff() of the whole file. Throws delivery_error (temporary) when the
/// file cannot be read.
void send_message_file(const std::filesystem::path& file, const std::function<void(std::string_view)>& send,
                       size_t chunk_size = 64 * 1024);

} // namespace router::delivery
