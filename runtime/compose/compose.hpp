// Builds the message for one destination: the document entity, then the
// signature, then the envelope, as the destination plan requires.
//
// The recipient and device certificates are judged again here, at build time,
// so a certificate that expired while its job waited is caught. Failures come
// back as a built_message with a reason, never as an exception.
#pragma once

#include "messages.pb.h"
#include "runtime/config/config.hpp"

#include <botan/rng.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace router::compose {

using time_point = std::chrono::system_clock::time_point;

/// Builds the S/MIME message for one planned destination of a job. A job with
/// received_message sends that message's content entity unchanged in place of
/// a built document: its Content-* fields with their folding, and its body.
/// New From, To, Subject, Date, Message-ID and MIME-Version fields go above it,
/// and the plan's signature and encryption wrap it as they wrap any document.
messages::built_message build_for_destination(const config::loaded_config& config,
                                              const messages::job_request& job,
                                              const messages::destination_plan& plan, time_point now,
                                              Botan::RandomNumberGenerator& rng);

class build_cache;  // runtime/compose/build_cache.hpp

/// Builds the message as above with the config and random source of `cache`,
/// reusing its device-key signer, certificate verdicts and recipient keys.
/// Every certificate is still judged for `now`.
messages::built_message build_for_destination(build_cache& cache, const messages::job_request& job,
                                              const messages::destination_plan& plan, time_point now);

/// Builds the error notice sent when destinations of a forwarded or routed job
/// could not be sent because of their certificates. The notice names the job and
/// each failed destination with its reason, and never contains the document.
/// `original` names the received message, when the job routes one.
/// Returns an empty message when the job names neither originator nor end receiver.
messages::built_message build_certificate_notice(const config::loaded_config& config,
                                                 const messages::job_request& job,
                                                 const std::vector<messages::destination_result>& failed,
                                                 time_point now, Botan::RandomNumberGenerator& rng,
                                                 const messages::original_message& original = {});

/// Returns the Subject, Message-ID and Date fields of a received message, which
/// notices quote so its sender can tell which message they are about.
messages::original_message original_message_of(const std::string& received_message);

/// Builds the non-delivery notice for a received message: an RFC 3464 report
/// to the request's recipient, sent with the null reverse path, that names each
/// failed destination with its reason and the relay's reply, and the original
/// message's Subject, Message-ID and Date, never its content. Signed as the
/// certificate notice is. Returns an empty message when the recipient or the
/// failed list is empty.
messages::built_message build_delivery_failure_notice(const config::loaded_config& config,
                                                      const messages::delivery_failure_notice_request& request,
                                                      time_point now, Botan::RandomNumberGenerator& rng);

/// A reason the device certificate cannot sign, with a key that identifies the
/// problem: the same key means the same problem.
struct device_certificate_problem {
  std::string cause;   // e.g. "expired:<sha-256 fingerprint>" or "missing"
  std::string detail;  // readable, names the certificate and what to do
};

/// Returns the problem that keeps the device certificate from signing at `now`,
/// or nullopt when it can sign.
std::optional<device_certificate_problem> check_device_certificate(const config::loaded_config& config,
                                                                  time_point now);

/// Builds the administrator notice for a device-certificate problem, unsigned
/// because the device cannot sign. Returns an empty message when no
/// administrator address is configured.
messages::built_message build_device_certificate_notice(const config::loaded_config& config,
                                                        const device_certificate_problem& problem,
                                                        const std::string& job_id, time_point now,
                                                        Botan::RandomNumberGenerator& rng);

/// Builds an unsigned plain-text notice to the administrator. Returns an empty
/// message when no administrator address is configured.
messages::built_message build_administrator_notice(const config::loaded_config& config, const std::string& subject,
                                                   const std::string& body, const std::string& notice_id,
                                                   time_point now, Botan::RandomNumberGenerator& rng);

/// Returns the outcome a successful send of this plan has.
messages::outcome planned_outcome(const messages::destination_plan& plan);

} // namespace router::compose
