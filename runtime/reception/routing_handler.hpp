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
// message is acknowledged with 250. Then it goes to the submit function, and
// its spool file is removed when the job's result arrives. recover() submits
// the jobs a previous run left in the spool.
//
// Limits: a message with recipients on several routes is stored once per
// route. A job whose submission throws stays in the spool until the next
// recover(), which is meant to run once at start.
#pragma once

#include "config.pb.h"
#include "messages.pb.h"
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
  using clock_function = std::function<std::chrono::system_clock::time_point()>;

  /// Takes validated reception settings; creates the spool folders and throws
  /// router_error naming the folder when it cannot.
  routing_handler(const config::smtp_reception& settings, std::shared_ptr<stats::registry> stats,
                  submit_function submit, clock_function clock = [] { return std::chrono::system_clock::now(); });

  smtp::reply check_recipient(const smtp::received_envelope& envelope, const std::string& address) override;
  smtp::reply accept_message(const smtp::received_envelope& envelope, std::string message) override;

  /// Submits every job found in the spool that is not already in flight, and
  /// moves unreadable spool files to the failed folder. Returns the number of
  /// jobs submitted.
  size_t recover();

 private:
  struct shared_state;

  /// Decides about a complete message for accept_message, which counts it.
  smtp::reply route_message(const smtp::received_envelope& envelope, std::string message);
  const config::reception_route* find_route(const std::string& address) const;
  std::string next_job_id();
  /// Hands a spooled job to submit_; returns false when submit_ throws.
  bool submit(messages::job_request job, const std::string& session_id);

  std::map<std::string, config::reception_route> routes_;  // by lower-case address
  std::shared_ptr<stats::registry> stats_;
  submit_function submit_;
  clock_function clock_;
  std::shared_ptr<shared_state> state_;  // shared with result callbacks, which may outlive the handler
  std::string id_prefix_;
  std::atomic<uint64_t> next_number_{1};
};

} // namespace router::reception
