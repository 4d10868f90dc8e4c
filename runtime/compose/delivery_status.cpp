#include "runtime/compose/delivery_status.hpp"

#include "runtime/mime/mime.hpp"

namespace router::compose {

namespace {

constexpr size_t max_detail_length = 200;

/// Makes text safe for a header-like field: printable ASCII, one line, capped.
std::string field_text(const std::string& text) {
  std::string clean;
  for (unsigned char c : text) {
    if (clean.size() >= max_detail_length) {
      clean += "...";
      break;
    }
    clean += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return clean;
}

std::string readable_part(const delivery_status_report& report) {
  std::string text = "This is a delivery status notification from the device.\n\n"
                     "Job " + field_text(report.job_id) + " was not sent to " +
                     std::to_string(report.failed.size()) +
                     " destination(s), because their certificates cannot be used:\n\n";
  for (const auto& destination : report.failed)
    text += "  " + field_text(destination.address) + ": " + field_text(destination.reason) + "\n";
  text += "\nThe document is not attached to this notice. Ask the administrator to\n"
          "register a valid certificate for each destination listed, then send again.\n";
  return text;
}

std::string status_part(const delivery_status_report& report) {
  // RFC 3464 section 2.2: per-message fields, then one block per recipient,
  // each block preceded by an empty line.
  std::string text = "Reporting-MTA: dns; " + field_text(report.reporting_domain) + "\n";
  text += "Arrival-Date: " + field_text(report.date) + "\n";
  for (const auto& destination : report.failed) {
    text += "\nFinal-Recipient: rfc822; " + field_text(destination.address) + "\n";
    text += "Action: failed\n";
    // RFC 3463 X.7.5: cryptographic failure, the key was missing or invalid.
    text += "Status: 5.7.5\n";
    text += "Diagnostic-Code: X-Secure-Send; " + field_text(destination.reason) + ": " +
            field_text(destination.detail) + "\n";
    text += "Last-Attempt-Date: " + field_text(report.date) + "\n";
  }
  return text;
}

} // namespace

std::string build_delivery_status_entity(const delivery_status_report& report, const std::string& boundary) {
  std::string entity = "Content-Type: multipart/report; report-type=delivery-status;\n boundary=\"" + boundary + "\"\n\n";
  entity += "This is a MIME-formatted delivery status notification.\n";

  entity += "\n--" + boundary + "\n";
  entity += "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n";
  entity += readable_part(report);

  entity += "\n--" + boundary + "\n";
  entity += "Content-Type: message/delivery-status\nContent-Transfer-Encoding: 7bit\n\n";
  entity += status_part(report);

  entity += "\n--" + boundary + "--\n";
  return mime::canonicalize_line_ends(entity);
}

} // namespace router::compose
