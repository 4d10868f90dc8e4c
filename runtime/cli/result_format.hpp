// Formats job results for the command line: one JSON object per destination.
#pragma once

#include "messages.pb.h"

#include <string>
#include <vector>

namespace router::cli {

/// Returns the lower-case outcome name used in output, e.g. "sent_encrypted".
std::string outcome_name(messages::outcome outcome);

/// Escapes text as a JSON string literal, quotes included.
std::string json_string(const std::string& text);

/// Returns one JSON object (no newline) with job id, destination, outcome,
/// reason, detail and the outbox file or SMTP reply.
std::string format_result_json(const messages::destination_result& result);

/// Returns one JSON object per notice the job caused: the certificate-failure
/// notice to the originator and the administrator's device-certificate notice.
std::vector<std::string> format_notice_json(const messages::job_result& result);

/// Returns true when every destination of the job was sent.
bool all_sent(const messages::job_result& result);

} // namespace router::cli
