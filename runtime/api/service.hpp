// Embedding API: the router as a library inside the device runtime.
//
//   auto router = router::api::service::start(router::config::load_config("router.textproto"));
//   router::messages::job_result result = router->submit(job);   // blocks until every destination is done
//   router->stats();                                             // per-actor figures
//   router->metrics_text();                                      // the same, as Prometheus text
//   router->stop();                                              // also done by the destructor
//
// submit() and submit_async() may be called from any thread. The clock is
// injected through options, so a device or a test can fix the time at which
// certificates are judged. When the config sets metrics_listen, the router
// serves GET /metrics on that loopback address while it runs; when it sets
// reception.listen, it runs an SMTP server there and routes what it receives.
#pragma once

#include "messages.pb.h"
#include "runtime/config/config.hpp"
#include "runtime/stats/stats.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>

namespace router::api {

/// A job the router cannot accept; the message names the field and the fix.
class invalid_job : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Returns the crypto workers used when neither the options nor the config
/// set them: two per core. Botan computes half of each RSA signature on a
/// thread of its own and the worker waits for it, so with one worker per core
/// the cores are idle part of the time.
size_t default_crypto_workers();

struct service_options {
  /// Source of "now" for certificate checks, Date headers and signing times.
  std::function<std::chrono::system_clock::time_point()> clock = [] { return std::chrono::system_clock::now(); };

  /// Crypto workers; 0 takes the config's crypto_workers, then
  /// default_crypto_workers().
  size_t crypto_workers = 0;

  /// Period of the certificate health check. The check warns the administrator
  /// at most once per UTC day. Zero turns the timer off, so only
  /// check_certificates() runs it.
  std::chrono::seconds health_check_interval{std::chrono::hours(24)};

  /// Delivery threads when the delivery target allows concurrent deliveries
  /// (the Maildir outbox). Each message waits for two fsyncs, and a disk can
  /// serve several flushes at once (a journaling file system may also merge
  /// them into one commit), so several threads deliver more messages per second
  /// than one. The messages of one job always
  /// go through one thread, in destination order. An SMTP relay gets one thread.
  /// NOTE: 8 was measured on one virtio disk only; other disks may want more or fewer.
  size_t delivery_threads = 8;

  /// Attempts per delivery for temporary failures, with exponential back-off.
  int delivery_attempts = 3;
  std::chrono::milliseconds first_retry_delay{500};
};

class service {
 public:
  /// Starts the actor system and every actor; throws delivery::delivery_error
  /// when the delivery target cannot be prepared, and std::runtime_error when
  /// the metrics_listen address cannot be bound.
  static std::unique_ptr<service> start(config::loaded_config config, service_options options = {});

  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Submits a job and waits for the result of every destination. Assigns a job
  /// id when the job has none. Throws invalid_job for a job that names no
  /// function or no destination, sets received_message together with
  /// body_text or attachments, or has a job id already in use.
  messages::job_result submit(messages::job_request job);

  /// Submits a job; `done` runs on a router thread once every destination is done.
  void submit_async(messages::job_request job, std::function<void(messages::job_result)> done);

  /// Returns the per-actor and router-wide figures as at this instant.
  stats::snapshot stats() const;

  /// Returns the figures in the Prometheus text exposition format (0.0.4),
  /// as GET /metrics serves them.
  std::string metrics_text() const;

  /// Returns the port GET /metrics listens on, or 0 when metrics_listen is empty.
  uint16_t metrics_port() const;

  /// Returns the port the SMTP reception server listens on, or 0 when
  /// reception.listen is empty.
  uint16_t reception_port() const;

  /// Judges every configured certificate now and warns the administrator when
  /// one is unusable or expiring, unless a warning already went out today.
  messages::health_check_result check_certificates();

  /// Stops SMTP reception, waits for jobs in flight, then stops every actor.
  /// Later submits throw.
  void stop();

 private:
  struct impl;
  explicit service(std::unique_ptr<impl> state);
  /// Resubmits spooled received mail, then starts the SMTP reception server.
  void start_reception(const service_options& options);
  /// Sends a received message's non-delivery notice through the notification
  /// actor; `done` runs on a router thread with the notice's delivery result.
  /// Throws invalid_job once the router is stopped.
  void send_delivery_failure_notice(messages::delivery_failure_notice_request request,
                                    std::function<void(messages::destination_result)> done);
  std::unique_ptr<impl> impl_;
};

} // namespace router::api
