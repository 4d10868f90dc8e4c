// Send policy: decides per destination whether to encrypt and/or sign.
//
// Pure function of the job, the config, the certificates known for the
// address book and the time passed in. It implements the per-destination
// encryption rule, Encrypt All, the three signature modes, the Internet-fax
// limits and the expired-certificate rules for forwarding, routing and
// transferring. It reads no files and no clock.
#pragma once

#include "config.pb.h"
#include "messages.pb.h"

#include <chrono>
#include <map>
#include <string>

namespace router::policy {

using time_point = std::chrono::system_clock::time_point;

/// What the policy needs to know of one destination certificate.
struct certificate_info {
  std::string file;        // path as resolved by the config loader
  time_point not_before;
  time_point not_after;
};

/// Certificates of the address book by entry id; entries without a
/// certificate are absent.
using certificate_index = std::map<std::string, certificate_info>;

/// Returns the per-destination plan for a job, in the job's destination order.
messages::job_plan plan_job(const messages::job_request& job, const config::router_config& config,
                            const certificate_index& certificates, time_point now);

} // namespace router::policy
