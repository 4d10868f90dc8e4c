// Delivery status notification entity (RFC 3464 multipart/report with
// report-type=delivery-status) for destinations the router did not send to.
//
// It has a readable text/plain part and a message/delivery-status part with
// one per-recipient block per failed destination. It never has the third,
// returned-content part, so the document cannot travel inside a notice.
// Pure: the date and the boundary are passed in.
#pragma once

#include <string>
#include <vector>

namespace router::compose {

/// One destination that was not sent to.
struct failed_destination {
  std::string address;
  std::string reason;  // reason code name, e.g. CERTIFICATE_EXPIRED
  std::string detail;  // readable detail; made printable ASCII and capped here
};

struct delivery_status_report {
  std::string job_id;
  std::string reporting_domain;  // domain of the device's sender address
  std::string date;              // RFC 5322 date of the failure
  std::vector<failed_destination> failed;
};

/// Builds the multipart/report entity with CRLF line ends.
std::string build_delivery_status_entity(const delivery_status_report& report, const std::string& boundary);

} // namespace router::compose
