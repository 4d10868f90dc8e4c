// Delivery status notification entity (RFC 3464 multipart/report with
// report-type=delivery-status) for destinations the router did not send to.
//
// It has a readable text/plain part and a message/delivery-status part with
// one per-recipient block per failed destination. When the report names the
// original message, a third text/rfc822-headers part carries only its Date,
// Subject and Message-ID fields (RFC 3462 allows headers in place of the whole
// message), so the sender can tell which message it was while the document
// never travels inside a notice.
// Pure: the date and the boundary are passed in.
#pragma once

#include <string>
#include <vector>

namespace router::compose {

/// One destination that was not sent to.
struct failed_destination {
  std::string address;
  std::string reason;  // reason code name, e.g. CERTIFICATE_EXPIRED
  std::string detail;  // readable detail, e.g. the relay's reply; made printable ASCII and capped here
  std::string status;  // RFC 3463 status code, e.g. "5.1.1"
  // The relay's SMTP reply quoted in detail, e.g. "550 5.1.1 mailbox
  // unavailable"; empty when the failure has none. It becomes an RFC 3464
  // "smtp" diagnostic in place of the reason and detail.
  std::string smtp_reply;
};

/// What the notice is about; it decides the readable text.
enum class report_cause {
  certificate,  // destinations left out because their certificates cannot be used
  delivery,     // a received message could not be delivered to its destinations
};

/// Header fields of the original message, unfolded, as received; empty when unknown.
struct original_fields {
  std::string subject;
  std::string message_id;
  std::string date;

  bool empty() const { return subject.empty() && message_id.empty() && date.empty(); }
};

struct delivery_status_report {
  report_cause cause = report_cause::certificate;
  std::string job_id;
  std::string reporting_domain;  // domain of the device's sender address
  std::string arrival_date;      // RFC 5322 date the router received the message or job
  std::string date;              // RFC 5322 date of the failure
  std::vector<failed_destination> failed;
  original_fields original;
};

/// Builds the multipart/report entity with CRLF line ends.
std::string build_delivery_status_entity(const delivery_status_report& report, const std::string& boundary);

} // namespace router::compose
