#include "runtime/api/service.hpp"

#include "actors/actors.hpp"
#include "runtime/common/error.hpp"
#include "runtime/compose/file_build.hpp"
#include "runtime/log/log.hpp"
#include "runtime/reception/routing_handler.hpp"
#include "runtime/smtp/server.hpp"
#include "runtime/smtp/tls.hpp"
#include "runtime/stats/http.hpp"
#include "runtime/stats/prometheus.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace router::api {

namespace {

/// Actor name for a source function; the two report functions share one actor.
std::string source_name(config::source_function function) {
  switch (function) {
    case config::EMAIL_TX_RESULTS:
    case config::FOLDER_TRANSFER_RESULT_REPORT:
      return "source.reports";
    default: {
      std::string name = config::function_name(function);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return "source." + name;
    }
  }
}

size_t worker_count(const service_options& options, const config::loaded_config& config) {
  if (options.crypto_workers > 0)
    return options.crypto_workers;
  if (config.settings.crypto_workers() > 0)
    return config.settings.crypto_workers();
  return default_crypto_workers();
}

} // namespace

size_t default_crypto_workers() {
  return 2 * static_cast<size_t>(std::max(1U, std::thread::hardware_concurrency()));
}

struct service::impl {
  caf::actor_system_config system_config;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<actors::router_context> context;
  caf::actor crypto_pool;
  caf::actor delivery;
  caf::actor notifier;
  caf::actor health;
  std::map<std::string, caf::actor> sources;  // by actor name
  std::unique_ptr<stats::metrics_server> metrics;  // null when metrics_listen is empty
  std::unique_ptr<reception::routing_handler> reception_handler;  // null when reception is off
  std::unique_ptr<smtp::reception_server> reception;

  std::mutex mutex;
  std::condition_variable idle;
  std::set<std::string> jobs_in_flight;
  std::atomic<uint64_t> next_job_number{1};
  std::string id_prefix;  // "job-<start time>-<4 random hex digits>-", so ids differ between runs
  bool stopped = false;

  /// Validates the job, assigns its id and registers it as in flight.
  caf::actor admit(messages::job_request& job) {
    if (job.function() == config::SOURCE_FUNCTION_UNSPECIFIED)
      throw invalid_job("job names no source function; set function, e.g. STANDARD_ADDRESS");
    if (job.destinations_size() == 0)
      throw invalid_job("job " + job.job_id() + " names no destination; add at least one");
    if (!job.received_message().empty() && (!job.body_text().empty() || job.attachments_size() > 0))
      throw invalid_job("job " + job.job_id() +
                        " sets received_message together with body_text or attachments; a routed message is "
                        "sent unchanged, so set only received_message");
    try {
      compose::check_attachments(job);
    } catch (const router_error& e) {
      throw invalid_job(e.what());
    }

    const std::lock_guard<std::mutex> lock(mutex);
    if (stopped)
      throw invalid_job("the router is stopped; start a new one to submit jobs");
    if (job.job_id().empty())
      job.set_job_id(id_prefix + std::to_string(next_job_number++));
    if (!jobs_in_flight.insert(job.job_id()).second)
      throw invalid_job("job id '" + job.job_id() + "' is already in flight; use a unique id");
    return sources.at(source_name(job.function()));
  }

  void release(const std::string& job_id) {
    const std::lock_guard<std::mutex> lock(mutex);
    jobs_in_flight.erase(job_id);
    if (jobs_in_flight.empty())
      idle.notify_all();
  }
};

service::service(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

std::unique_ptr<service> service::start(config::loaded_config config, service_options options) {
  auto state = std::make_unique<impl>();

  auto context = std::make_shared<actors::router_context>();
  context->deliverer = delivery::make_deliverer(config.settings.delivery());
  context->config = std::make_shared<const config::loaded_config>(std::move(config));
  context->clock = options.clock;
  context->stats = std::make_shared<stats::registry>();
  context->retry = delivery::retry_policy{options.delivery_attempts, options.first_retry_delay};
  state->context = context;

  const auto started = std::chrono::duration_cast<std::chrono::seconds>(options.clock().time_since_epoch()).count();
  // The start time orders ids across runs; the random part distinguishes routers started in the same second.
  std::random_device entropy;
  char random_part[8];
  std::snprintf(random_part, sizeof random_part, "%04x", static_cast<unsigned>(entropy() & 0xffff));
  state->id_prefix = "job-" + std::to_string(started) + "-" + random_part + "-";

  const std::string& listen = context->config->settings.metrics_listen();
  // Bound before any actor runs, so a busy port stops start() with nothing to tear down.
  if (!listen.empty()) {
    std::string problem;
    const auto where = stats::parse_loopback_endpoint(listen, problem);
    if (!where)
      throw std::runtime_error("invalid metrics_listen '" + listen + "': " + problem);
    const std::shared_ptr<stats::registry> registry = context->stats;
    state->metrics = std::make_unique<stats::metrics_server>(
        *where, [registry] { return stats::format_exposition(registry->take_snapshot()); });
    log::logger()->info("metrics served at http://{}:{}/metrics", where->host, state->metrics->port());
  }

  state->system_config.set("logger.verbosity", caf::atom("quiet"));
  // CAF's default work-stealing scheduler lets an idle worker poll, then poll
  // with short sleeps, before it blocks. The router's actors spend milliseconds
  // on each message, so workers are often briefly idle and those polls cost
  // CPU time. The sharing scheduler blocks idle workers on a condition variable.
  state->system_config.set("scheduler.policy", caf::atom("sharing"));
  // A crypto worker blocks its scheduler thread while Botan computes the other
  // half of an RSA signature, so each worker gets a thread of its own.
  const size_t crypto_workers = worker_count(options, *context->config);
  state->system_config.set("scheduler.max-threads",
                           static_cast<int64_t>(std::max<size_t>(crypto_workers, std::thread::hardware_concurrency())));
  state->system = std::make_unique<caf::actor_system>(state->system_config);
  auto& system = *state->system;

  state->crypto_pool = actors::spawn_crypto_pool(system, context, crypto_workers);
  const size_t delivery_threads =
      context->deliverer->concurrent_deliveries() ? std::max<size_t>(1, options.delivery_threads) : 1;
  state->delivery = actors::spawn_delivery(system, context, delivery_threads);
  state->notifier = actors::spawn_notifier(system, context, state->delivery);
  state->health = actors::spawn_health_monitor(system, context, state->delivery, options.health_check_interval);

  for (int value = config::STANDARD_ADDRESS; value <= config::SMTP_RECEPTION; ++value) {
    const std::string name = source_name(static_cast<config::source_function>(value));
    if (state->sources.count(name) == 0)
      state->sources[name] =
          actors::spawn_source(system, context, name, state->crypto_pool, state->delivery, state->notifier);
  }

  log::logger()->info("router started: {} crypto workers, {} delivery threads, delivery to {}",
                      crypto_workers, delivery_threads, context->deliverer->describe());
  std::unique_ptr<service> router(new service(std::move(state)));
  if (!router->impl_->context->config->settings.reception().listen().empty())
    router->start_reception(options);
  return router;
}

void service::start_reception(const service_options& options) {
  const auto settings = config::reception_with_defaults(impl_->context->config->settings.reception());
  // The handler submits through this service; stop() ends the server before
  // the service goes, so the pointer stays valid for every session.
  impl_->reception_handler = std::make_unique<reception::routing_handler>(
      settings, impl_->context->stats,
      [this](messages::job_request job, reception::routing_handler::result_callback done) {
        submit_async(std::move(job), std::move(done));
      },
      [this](messages::delivery_failure_notice_request request, reception::routing_handler::notice_callback done) {
        send_delivery_failure_notice(std::move(request), std::move(done));
      },
      options.clock);
  const size_t recovered = impl_->reception_handler->recover();
  if (recovered > 0)
    log::logger()->info("reception: resubmitted {} spooled job(s) left by an earlier run", recovered);

  smtp::reception_settings server_settings;
  server_settings.listen = settings.listen();
  server_settings.host_name = settings.host_name();
  server_settings.max_message_size = settings.max_message_size();
  server_settings.max_recipients = settings.max_recipients();
  server_settings.max_sessions = settings.max_sessions();
  server_settings.command_timeout = std::chrono::seconds(settings.command_timeout_seconds());
  server_settings.data_timeout = std::chrono::seconds(settings.data_timeout_seconds());
  server_settings.stats = impl_->context->stats.get();

  smtp::reception_server::tls_starter start_tls;
  if (settings.has_tls()) {
    const auto identity = smtp::tls_server_identity::load(
        settings.tls().certificate_file(),
        {settings.tls().chain_files().begin(), settings.tls().chain_files().end()},
        settings.tls().private_key_file());
    const auto timeout = server_settings.command_timeout;
    start_tls = [identity, timeout](smtp::connection& client) { client.start_tls_server(identity, timeout); };
  }
  impl_->reception = std::make_unique<smtp::reception_server>(server_settings, *impl_->reception_handler, start_tls);
  try {
    impl_->reception->start();
  } catch (const router_error& e) {
    // Named as in the config, so it is not taken for metrics_listen.
    throw router_error(std::string("SMTP reception, config field reception.listen: ") + e.what());
  }
}

uint16_t service::reception_port() const {
  return impl_->reception ? impl_->reception->port() : 0;
}

service::~service() {
  stop();
}

messages::job_result service::submit(messages::job_request job) {
  const caf::actor source = impl_->admit(job);
  const std::string job_id = job.job_id();

  messages::job_result result;
  std::string failure;
  {
    caf::scoped_actor self{*impl_->system};
    self->request(source, caf::infinite, std::move(job))
        .receive([&](messages::job_result& received) { result = std::move(received); },
                 [&](caf::error& error) { failure = to_string(error); });
  }
  impl_->release(job_id);
  if (!failure.empty())
    throw std::runtime_error("job " + job_id + " failed inside the router: " + failure);
  return result;
}

void service::submit_async(messages::job_request job, std::function<void(messages::job_result)> done) {
  const caf::actor source = impl_->admit(job);
  impl* state = impl_.get();

  impl_->system->spawn([source, job = std::move(job), done = std::move(done), state](caf::event_based_actor* self) {
    const std::string job_id = job.job_id();
    self->request(source, caf::infinite, job)
        .then(
            // `done` runs before the job is released, so stop() also waits
            // for what it starts, such as a non-delivery notice.
            [self, done, state, job_id](messages::job_result& result) {
              done(std::move(result));
              state->release(job_id);
              self->quit();
            },
            [self, done, state, job_id](caf::error& error) {
              log::logger()->error("job {}: failed inside the router: {}", job_id, to_string(error));
              messages::job_result empty;
              empty.set_job_id(job_id);
              done(std::move(empty));
              state->release(job_id);
              self->quit();
            });
  });
}

void service::send_delivery_failure_notice(messages::delivery_failure_notice_request request,
                                           std::function<void(messages::destination_result)> done) {
  const std::string notice_id = request.job().job_id() + "-bounce";
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopped)
      throw invalid_job("the router is stopped; the notice for job " + request.job().job_id() + " waits in the spool");
    if (!impl_->jobs_in_flight.insert(notice_id).second)
      throw invalid_job("a notice for job " + request.job().job_id() + " is already in flight");
  }
  impl* state = impl_.get();
  const caf::actor notifier = impl_->notifier;

  impl_->system->spawn([notifier, request = std::move(request), done = std::move(done), state,
                        notice_id](caf::event_based_actor* self) {
    self->request(notifier, caf::infinite, request)
        .then(
            [self, done, state, notice_id](messages::destination_result& result) {
              done(std::move(result));
              state->release(notice_id);
              self->quit();
            },
            [self, done, state, notice_id](caf::error& error) {
              log::logger()->error("{}: failed inside the router: {}", notice_id, to_string(error));
              messages::destination_result failed;
              failed.set_job_id(notice_id);
              failed.set_outcome(messages::FAILED);
              failed.set_reason(messages::DELIVERY_FAILED);
              failed.set_detail("notification actor failed: " + to_string(error));
              done(std::move(failed));
              state->release(notice_id);
              self->quit();
            });
  });
}

stats::snapshot service::stats() const {
  return impl_->context->stats->take_snapshot();
}

std::string service::metrics_text() const {
  return stats::format_exposition(impl_->context->stats->take_snapshot());
}

uint16_t service::metrics_port() const {
  return impl_->metrics ? impl_->metrics->port() : 0;
}

messages::health_check_result service::check_certificates() {
  messages::health_check_result result;
  std::string failure;
  caf::scoped_actor self{*impl_->system};
  self->request(impl_->health, caf::infinite, messages::health_check_request{})
      .receive([&](messages::health_check_result& received) { result = std::move(received); },
               [&](caf::error& error) { failure = to_string(error); });
  if (!failure.empty())
    throw std::runtime_error("certificate health check failed inside the router: " + failure);
  return result;
}

void service::stop() {
  if (!impl_ || !impl_->system)
    return;
  // No new received mail from here on; a session inside the handler submits its jobs first.
  if (impl_->reception)
    impl_->reception->stop();
  // Deferred received jobs wait in the spool for the next start.
  if (impl_->reception_handler)
    impl_->reception_handler->close();
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    if (impl_->stopped)
      return;
    impl_->stopped = true;
    impl_->idle.wait(lock, [this] { return impl_->jobs_in_flight.empty(); });
  }

  for (const auto& entry : impl_->sources)
    caf::anon_send_exit(entry.second, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->notifier, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->health, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->crypto_pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->delivery, caf::exit_reason::user_shutdown);
  impl_->sources.clear();
  impl_->notifier = nullptr;
  impl_->health = nullptr;
  impl_->crypto_pool = nullptr;
  impl_->delivery = nullptr;
  impl_->system->await_all_actors_done();
  impl_->system.reset();
  impl_->reception.reset();
  impl_->reception_handler.reset();
  if (impl_->metrics)
    impl_->metrics->stop();
  log::logger()->info("router stopped");
}

} // namespace router::api
