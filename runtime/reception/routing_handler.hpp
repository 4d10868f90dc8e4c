// The router's side of SMTP reception: which recipients it accepts, and what
// becomes of a received message.
//
// A recipient is accepted when a reception route names its address (compared
// without case). A complete message is first checked for S/MIME encryption,
// which the device cannot receive. Such a message is rejected with 554 5.7.1,
// counted, and logged at info like every other refusal of a client's request.
// Nothing of it is routed or spooled. Any other message
// becomes one job per route among its recipients, with the message bytes as
// the job's received_message. Every job is written to the spool before the
// message is acknowledged with 250, and from then on it is delivered or
// reported to the sender (RFC 5321 section 6.1):
//
// - A round submits the job's remaining destinations. Sent destinations leave
//   the job, and the spool file is rewritten before anything else happens, so
//   a restart never sends them again.
// - Destinations deferred (DELIVERY_DEFERRED: the relay was down or replied
//   4xx) stay, and a new round starts after retry_first_seconds, doubling up to
//   retry_max_seconds. Once max_queue_seconds have passed since the 250 reply,
//   deferred destinations count as failed for good.
// - Destinations that failed for good get a non-delivery notice to the
//   message's MAIL FROM address, through the notice function. The null sender
//   <> and a message that is itself a delivery status report get none, so
//   notices never loop; that loss is logged as an error and counted.
// - A notice whose delivery is deferred is tried again on the same back-off
//   schedule until max_queue_seconds have passed since it became due, a time
//   kept in the spool. Only then is its loss logged as an error and counted.
// - The spool file is removed once no destination is left to try and no
//   notice is left to send (or its sending failed for good, which is logged and
//   counted).
//
// recover() picks up the jobs a previous run left in the spool, keeping their
// retry times and queue lifetime. close() stops the retry timer; jobs then stay
// in the spool for the next start.
//
// Limits: a message with recipients on several routes is stored once per
// route. When rewriting a spool file fails, the older version stays, so its
// next round may send destinations again that were sent already.
#pragma once

#include "config.pb.h"
#include "messages.pb.h"
#include "runtime/reception/retry_timer.hpp"
#include "runtime/reception/spool.hpp"
#include "runtime/smtp/reception_handler.hpp"
#include "runtime/stats/stats.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace router::reception {

/// Actor name of the handler's figures in the stats registry: messages
/// received (complete messages given to accept_message) and handled (decided),
/// and refusals and failures by reason. The SMTP server counts sessions
/// under its own name.
constexpr const char* stats_name = "reception";

class routing_handler final : public smtp::reception_handler {
 public:
  using result_callback = std::function<void(messages::job_result)>;
  /// Starts a job and calls the callback once every destination is done, as
  /// api::service::submit_async does. It may throw to refuse the job.
  using submit_function = std::function<void(messages::job_request, result_callback)>;
  using notice_callback = std::function<void(messages::destination_result)>;
  /// Sends a non-delivery notice and calls the callback with the notice's
  /// delivery result. It may throw to refuse the request.
  using notice_function = std::function<void(messages::delivery_failure_notice_request, notice_callback)>;
  using clock_function = std::function<std::chrono::system_clock::time_point()>;
  /// Runs a task once a delay has passed. The default is a retry_timer owned
  /// by the handler; tests pass their own to fire retries by hand.
  using schedule_function = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

  /// Takes validated reception settings, whose unset retry fields get their
  /// defaults; creates the spool folders and throws router_error naming the
  /// folder when it cannot. `clock` decides the queue lifetime and the times
  /// written to the spool.
  routing_handler(const config::smtp_reception& settings, std::shared_ptr<stats::registry> stats,
                  submit_function submit, notice_function notify,
                  clock_function clock = [] { return std::chrono::system_clock::now(); },
                  schedule_function schedule = {});
  ~routing_handler() override;

  smtp::reply check_recipient(const smtp::received_envelope& envelope, const std::string& address) override;
  smtp::reply accept_message(const smtp::received_envelope& envelope, std::string message) override;

  /// Resumes every job found in the spool that is not already active: sends
  /// the notice it still owes, then submits it when its next attempt is due or
  /// schedules it for then. Moves unreadable spool files to the failed folder.
  /// Returns the number of jobs resumed.
  size_t recover();

  /// Stops the retry timer and starts no new round or notice; results that
  /// arrive later still update the spool. Called by the destructor.
  void close();

  struct shared_state;

 private:
  /// Decides about a complete message for accept_message, which counts it.
  smtp::reply route_message(const smtp::received_envelope& envelope, std::string message);
  const config::reception_route* find_route(const std::string& address) const;
  std::string next_job_id();

  std::map<std::string, config::reception_route> routes_;  // by lower-case address
  std::string host_name_;  // in the Received: field of each message taken
  std::shared_ptr<stats::registry> stats_;
  clock_function clock_;
  std::shared_ptr<shared_state> state_;  // shared with result callbacks, which may outlive the handler
  std::shared_ptr<retry_timer> timer_;   // null when a schedule function was passed in
  std::string id_prefix_;
  std::atomic<uint64_t> next_number_{1};
};

} // namespace router::reception
