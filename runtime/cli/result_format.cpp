#include "runtime/cli/result_format.hpp"

#include <algorithm>
#include <cstdio>

namespace router::cli {

std::string outcome_name(messages::outcome outcome) {
  std::string name = messages::outcome_Name(outcome);
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  return name;
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\r':
        quoted += "\\r";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          quoted += escaped;
        } else {
          quoted += static_cast<char>(c);
        }
    }
  }
  return quoted + "\"";
}

std::string format_result_json(const messages::destination_result& result) {
  const std::string destination = result.destination_id().empty() ? result.address() : result.destination_id();
  const std::string reason =
      result.reason() == messages::REASON_NONE ? "" : messages::reason_code_Name(result.reason());
  std::string json = "{\"job_id\":" + json_string(result.job_id());
  json += ",\"index\":" + std::to_string(result.index());
  json += ",\"destination\":" + json_string(destination);
  json += ",\"address\":" + json_string(result.address());
  json += ",\"outcome\":" + json_string(outcome_name(result.outcome()));
  json += ",\"reason\":" + json_string(reason);
  json += ",\"detail\":" + json_string(result.detail());
  if (!result.outbox_file().empty())
    json += ",\"outbox_file\":" + json_string(result.outbox_file());
  if (!result.smtp_reply().empty())
    json += ",\"smtp_reply\":" + json_string(result.smtp_reply());
  if (!result.certificate_fingerprint().empty())
    json += ",\"certificate_sha256\":" + json_string(result.certificate_fingerprint());
  return json + "}";
}

std::vector<std::string> format_notice_json(const messages::job_result& result) {
  std::vector<std::string> notices;
  if (result.notification_sent())
    notices.push_back("{\"job_id\":" + json_string(result.job_id()) + ",\"notice\":\"certificate_failure\",\"sent\":true}");
  if (result.administrator_notified())
    notices.push_back("{\"job_id\":" + json_string(result.job_id()) +
                      ",\"notice\":\"device_certificate\",\"sent\":true}");
  return notices;
}

bool all_sent(const messages::job_result& result) {
  return std::all_of(result.destinations().begin(), result.destinations().end(), [](const auto& destination) {
    return destination.outcome() != messages::REJECTED && destination.outcome() != messages::FAILED &&
           destination.outcome() != messages::OUTCOME_UNSPECIFIED;
  });
}

} // namespace router::cli
