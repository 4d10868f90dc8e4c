#include "runtime/compose/delivery_status.hpp"

#include "runtime/mime/mime.hpp"

namespace router::compose {

namespace {

constexpr size_t max_detail_length = 200;
constexpr size_t max_original_field_length = 400;
constexpr size_t max_reply_length = 300;  // the SMTP client keeps this much of a relay's reply

/// Makes text safe for a header-like field: printable ASCII, one line, capped.
std::string field_text(const std::string& text, size_t max_length = max_detail_length) {
  std::string clean;
  for (unsigned char c : text) {
    if (clean.size() >= max_length) {
      clean += "...";
      break;
    }
    clean += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return clean;
}

std::string certificate_text(const delivery_status_report& report) {
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

std::string delivery_text(const delivery_status_report& report) {
  std::string text = "This is a delivery status notification from the device.\n\n"
                     "The device accepted your message on " + field_text(report.arrival_date) +
                     " as job " + field_text(report.job_id) + ", but could not deliver it to " +
                     std::to_string(report.failed.size()) + " destination(s):\n\n";
  for (const auto& destination : report.failed)
    text += "  " + field_text(destination.address) + ": " + field_text(destination.reason) + ": " +
            field_text(destination.detail) + "\n";
  text += "\nThe message is not attached to this notice. The other destinations, if\n"
          "any, were not affected. Check each address listed, or ask the device's\n"
          "administrator about the reason, then send the message again.\n";
  return text;
}

std::string readable_part(const delivery_status_report& report) {
  std::string text = report.cause == report_cause::certificate ? certificate_text(report) : delivery_text(report);
  if (report.original.empty())
    return text;

  text += "\nYour message:\n";
  if (!report.original.subject.empty())
    text += "  Subject: " + field_text(report.original.subject, max_original_field_length) + "\n";
  if (!report.original.message_id.empty())
    text += "  Message-ID: " + field_text(report.original.message_id, max_original_field_length) + "\n";
  if (!report.original.date.empty())
    text += "  Date: " + field_text(report.original.date, max_original_field_length) + "\n";
  return text;
}

std::string status_part(const delivery_status_report& report) {
  // RFC 3464 section 2.2: per-message fields, then one block per recipient,
  // each block preceded by an empty line.
  const std::string& arrival = report.arrival_date.empty() ? report.date : report.arrival_date;
  std::string text = "Reporting-MTA: dns; " + field_text(report.reporting_domain) + "\n";
  text += "Arrival-Date: " + field_text(arrival) + "\n";
  for (const auto& destination : report.failed) {
    text += "\nFinal-Recipient: rfc822; " + field_text(destination.address) + "\n";
    text += "Action: failed\n";
    text += "Status: " + field_text(destination.status) + "\n";
    // RFC 3464 section 2.3.6: the diagnostic type "smtp" marks an SMTP reply;
    // the device's own type marks any other diagnostic.
    if (!destination.smtp_reply.empty())
      text += "Diagnostic-Code: smtp; " + field_text(destination.smtp_reply, max_reply_length) + "\n";
    else
      text += "Diagnostic-Code: X-Secure-Send; " + field_text(destination.reason) + ": " +
              field_text(destination.detail) + "\n";
    text += "Last-Attempt-Date: " + field_text(report.date) + "\n";
  }
  return text;
}

/// Returns the original's identifying fields as a text/rfc822-headers body.
std::string headers_part(const original_fields& original) {
  std::string text;
  if (!original.date.empty())
    text += "Date: " + field_text(original.date, max_original_field_length) + "\n";
  if (!original.subject.empty())
    text += "Subject: " + field_text(original.subject, max_original_field_length) + "\n";
  if (!original.message_id.empty())
    text += "Message-ID: " + field_text(original.message_id, max_original_field_length) + "\n";
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

  if (!report.original.empty()) {
    entity += "\n--" + boundary + "\n";
    entity += "Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: 7bit\n\n";
    entity += headers_part(report.original);
  }

  entity += "\n--" + boundary + "--\n";
  return mime::canonicalize_line_ends(entity);
}

} // namespace router::compose
