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

/// Validity facts of one destination certificate, as the policy uses them.
struct certificate_info {
  std::string file;        // path as resolved by the config loader
  time_point not_before;
  time_point not_after;
};

/// Certificates of the address book by entry id; entries without a
/// certificate are absent.
using certificate_index = std::map<std::string, certificate_info>;

/// Returns true when the function may encrypt a message to an Internet-fax
/// destination: forwarding, Personal Box, SMTP reception and Transfer Box.
bool may_encrypt_internet_fax(config::source_function function);

/// Returns true when a certificate failure of an encrypted destination sends an
/// error notice to the originator, or to the end receiver when the originator
/// is unknown: forwarding, Personal Box and SMTP reception. Transfer Box only
/// records the failure in the job result.
bool notifies_on_certificate_failure(config::source_function function);

/// Returns the per-destination plan for a job, in the job's destination order.
///
/// Each plan has `index` set to its position, the resolved id, address and
/// kind, and the action. REJECT means the request is invalid: no valid source
/// function, a signature requested in "do not use" mode, an unknown id, or a
/// reference with neither id nor address or with an address other than its
/// entry's. FAIL means the destination must be encrypted but cannot be sent
/// safely: no certificate under Encrypt All, an Internet-fax destination the
/// function may not encrypt under Encrypt All, or a certificate outside its
/// validity period. FAIL plans keep `encrypt` and `sign` as decided.
/// `notify_on_certificate_failure` is set on every plan that encrypts with a
/// registered certificate for a function that notifies. Every plan other than
/// SEND carries a `detail` for the user. A job with no destinations gets an
/// empty plan.
messages::job_plan plan_job(const messages::job_request& job, const config::router_config& config,
                            const certificate_index& certificates, time_point now);

} // namespace router::policy
