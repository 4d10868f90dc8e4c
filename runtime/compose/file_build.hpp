// Builds messages for jobs whose attachments are files (attachment.path),
// and for large received messages.
//
// The message is written to a file in the work directory instead of being
// held in memory. The document entity goes to a temporary file. Signing and
// encryption read it in chunks, and the result goes with its header fields
// into the message file. Headers and structure are those of the in-memory
// builder for the same input. Intermediate files are removed on
// every path; the message file belongs to the caller once it is returned.
#pragma once

#include "messages.pb.h"
#include "runtime/config/config.hpp"

#include <botan/rng.h>

#include <chrono>
#include <filesystem>

namespace router::compose {

/// Received messages larger than this are built as files, like documents
/// given by path, so a large received message is not copied per build step.
constexpr size_t received_file_threshold = 1024 * 1024;

/// Returns true when any attachment of the job is given by path.
bool has_file_attachments(const messages::job_request& job);

/// Returns true when the job's messages are built as files: it has an
/// attachment given by path, or a received message over received_file_threshold.
bool builds_as_file(const messages::job_request& job);

/// Returns the content entity of the job's received message, byte for byte.
/// Throws router_error when the message has a lone CR or LF, which sending
/// it on unchanged would carry into the output.
std::string received_entity(const messages::job_request& job);

/// Checks that every attachment sets data or path but not both, and that every
/// path names a readable file. Throws router_error naming the attachment.
void check_attachments(const messages::job_request& job);

/// Returns the folder for message files: the outbox's tmp folder when the
/// config delivers to an outbox, so delivery is a rename, else the system's
/// temporary folder.
std::filesystem::path work_directory(const config::loaded_config& config);

/// Builds the message for a planned destination of a job that
/// builds_as_file() and sets built.message_file. `recipient` is the checked
/// destination certificate when the plan encrypts. Throws router_error.
messages::built_message build_message_file(const config::loaded_config& config, const messages::job_request& job,
                                           const messages::destination_plan& plan,
                                           const Botan::X509_Certificate* recipient,
                                           std::chrono::system_clock::time_point now,
                                           Botan::RandomNumberGenerator& rng, messages::built_message built);

} // namespace router::compose
