#include "runtime/reports/reports.hpp"

#include <ctime>

namespace router::reports {

namespace {

std::string format_time(int64_t unix_seconds) {
  if (unix_seconds <= 0)
    return "-";
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm fields{};
  ::gmtime_r(&time, &fields);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &fields);
  return text;
}

/// Groups a hex fingerprint in pairs with colons, as certificate viewers show it.
std::string format_fingerprint(const std::string& hex) {
  std::string grouped;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (!grouped.empty())
      grouped += ':';
    grouped += hex.substr(i, 2);
  }
  return grouped;
}

void add_field(std::string& text, const std::string& name, const std::string& value) {
  text += "  " + name + std::string(name.size() < 13 ? 13 - name.size() : 1, ' ') + value + "\n";
}

} // namespace

std::string describe_outcome(messages::outcome outcome) {
  switch (outcome) {
    case messages::SENT_ENCRYPTED_SIGNED:
      return "sent, encrypted and signed";
    case messages::SENT_ENCRYPTED:
      return "sent, encrypted";
    case messages::SENT_SIGNED:
      return "sent, signed";
    case messages::SENT_PLAIN:
      return "sent, neither encrypted nor signed";
    case messages::REJECTED:
      return "rejected";
    case messages::FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

std::string format_result_report(const std::string& title, const messages::job_result& result) {
  std::string text = title + "\n\nJob: " + result.job_id() + "\nDestinations: " +
                     std::to_string(result.destinations_size()) + "\n";

  for (const auto& destination : result.destinations()) {
    text += "\nDestination " + std::to_string(destination.index() + 1) + ": " + destination.address();
    if (!destination.destination_id().empty())
      text += " (" + destination.destination_id() + ")";
    text += "\n";

    add_field(text, "Result:", describe_outcome(destination.outcome()));
    add_field(text, "Time:", format_time(destination.completed_unix()));
    if (!destination.algorithms().empty())
      add_field(text, "Algorithms:", destination.algorithms());
    if (!destination.certificate_fingerprint().empty())
      add_field(text, "Certificate:", "SHA-256 " + format_fingerprint(destination.certificate_fingerprint()));
    if (destination.reason() != messages::REASON_NONE)
      add_field(text, "Reason:", messages::reason_code_Name(destination.reason()) + ": " + destination.detail());
  }
  if (result.notification_sent())
    text += "\nThe originator was sent a notice naming the destinations whose certificates failed.\n";
  return text;
}

} // namespace router::reports
