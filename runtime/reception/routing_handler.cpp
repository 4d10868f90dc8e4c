#include "runtime/reception/routing_handler.hpp"

#include "runtime/common/error.hpp"
#include "runtime/config/config.hpp"
#include "runtime/log/log.hpp"
#include "runtime/mime/received_message.hpp"
#include "runtime/reception/encrypted_content.hpp"
#include "runtime/reception/message_fields.hpp"
#include "runtime/smtp/connection.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>

namespace router::reception {

struct routing_handler::shared_state {
  shared_state(std::filesystem::path directory, std::shared_ptr<stats::registry> registry)
      : spool(std::move(directory)), stats(std::move(registry)) {}

  job_spool spool;
  std::shared_ptr<stats::registry> stats;
  submit_function submit;
  notice_function notify;
  clock_function clock;
  schedule_function schedule;
  std::chrono::seconds retry_first{};
  std::chrono::seconds retry_max{};
  std::chrono::seconds max_queue{};

  std::mutex mutex;
  std::set<std::string> active;  // job ids in a round, waiting for a retry or for their notice
  bool closed = false;
};

namespace {

using state_ptr = std::shared_ptr<routing_handler::shared_state>;

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Received: fields from which a message counts as looping. RFC 5321
/// section 6.3 recommends a threshold of at least 100.
constexpr size_t max_received_fields = 100;

/// Returns "1 destination" or "N destinations".
std::string destination_count(int count) {
  return std::to_string(count) + (count == 1 ? " destination" : " destinations");
}

bool was_sent(const messages::destination_result& result) {
  const auto outcome = result.outcome();
  return outcome != messages::REJECTED && outcome != messages::FAILED && outcome != messages::OUTCOME_UNSPECIFIED;
}

bool is_certificate_reason(messages::reason_code reason) {
  return reason == messages::NO_CERTIFICATE || reason == messages::CERTIFICATE_EXPIRED ||
         reason == messages::CERTIFICATE_NOT_YET_VALID || reason == messages::CERTIFICATE_UNREADABLE ||
         reason == messages::CERTIFICATE_UNTRUSTED || reason == messages::CERTIFICATE_REVOKED ||
         reason == messages::CERTIFICATE_WRONG_KEY_USAGE || reason == messages::CERTIFICATE_ADDRESS_MISMATCH;
}

messages::destination_ref destination_for(const std::string& destination) {
  messages::destination_ref reference;
  if (destination.find('@') != std::string::npos)
    reference.set_address(destination);
  else
    reference.set_id(destination);
  return reference;
}

std::string describe(const messages::destination_ref& destination) {
  return destination.address().empty() ? destination.id() : destination.address();
}

int64_t unix_now(const state_ptr& state) {
  return std::chrono::duration_cast<std::chrono::seconds>(state->clock().time_since_epoch()).count();
}

int64_t expiry_of(const state_ptr& state, const messages::spooled_job& entry) {
  return entry.accepted_unix() + state->max_queue.count();
}

/// Returns when a deferred notice is given up: max_queue seconds after it
/// became due, so a notice owed at the end of the queue lifetime still gets
/// the full retry schedule.
int64_t notice_expiry_of(const state_ptr& state, const messages::spooled_job& entry) {
  return entry.notice_due_unix() + state->max_queue.count();
}

/// Returns the wait after the n-th deferred round (1-based): retry_first
/// doubled for each earlier deferral, capped at retry_max.
std::chrono::seconds backoff(const state_ptr& state, uint32_t deferrals) {
  std::chrono::seconds delay = state->retry_first;
  for (uint32_t i = 1; i < deferrals && delay < state->retry_max; ++i)
    delay *= 2;
  return std::min(delay, state->retry_max);
}

/// Returns true when the received message is itself a delivery status report,
/// which must never cause another one.
bool is_delivery_status_report(const std::string& message) {
  const std::string type = to_lower(mime::split_received_message(message).field("Content-Type"));
  return type.rfind("multipart/report", 0) == 0 && type.find("delivery-status") != std::string::npos;
}

void deactivate(const state_ptr& state, const std::string& job_id) {
  const std::lock_guard<std::mutex> lock(state->mutex);
  state->active.erase(job_id);
}

bool is_closed(const state_ptr& state) {
  const std::lock_guard<std::mutex> lock(state->mutex);
  return state->closed;
}

void start_round(const state_ptr& state, messages::spooled_job entry, const std::string& session_id);
void send_notice(const state_ptr& state, messages::spooled_job entry);

/// Writes the job's new state, or removes its file when nothing is left to do.
/// Returns false when the file could not be updated.
bool store(const state_ptr& state, const messages::spooled_job& entry) {
  const std::string& job_id = entry.job().job_id();
  if (entry.job().destinations_size() == 0 && entry.undeliverable_size() == 0) {
    std::string problem;
    if (state->spool.remove(job_id, problem))
      return true;
    log::logger()->error("reception job {} is done, but its spool file stays, so the next start resumes it: {}",
                         job_id, problem);
    return false;
  }
  try {
    state->spool.rewrite(entry);
    return true;
  } catch (const router_error& e) {
    state->stats->count_failure(stats_name, "SPOOL_FAILED");
    log::logger()->error("reception job {}: cannot update its spool file, so the next start may send destinations "
                         "again that were sent already: {}",
                         job_id, e.what());
    return false;
  }
}

/// Waits for the next round of a job with destinations left, or ends it.
void wait_or_finish(const state_ptr& state, const messages::spooled_job& entry) {
  const std::string job_id = entry.job().job_id();
  if (entry.job().destinations_size() == 0) {
    deactivate(state, job_id);
    return;
  }

  const int64_t wait_seconds = std::max<int64_t>(0, entry.next_attempt_unix() - unix_now(state));
  {
    const std::lock_guard<std::mutex> lock(state->mutex);
    if (state->closed) {
      state->active.erase(job_id);
      log::logger()->info("reception job {}: the router is stopping, so its next attempt waits in the spool for the "
                          "next start",
                          job_id);
      return;
    }
  }
  state->schedule(std::chrono::seconds(wait_seconds), [state, job_id] {
    std::string problem;
    auto reread = state->spool.read(state->spool.file_for(job_id), problem);
    if (!reread) {
      state->stats->count_failure(stats_name, "SPOOL_FILE_UNREADABLE");
      log::logger()->error("reception job {}: cannot read its spool file for the next attempt ({}); it stays for "
                           "the next start",
                           job_id, problem);
      deactivate(state, job_id);
      return;
    }
    if (reread->undeliverable_size() > 0)
      send_notice(state, std::move(*reread));
    else
      start_round(state, std::move(*reread), "");
  });
}

/// Continues a job after its notice went out, or failed to: the next round
/// when destinations are left, else the end of the job.
void after_notice(const state_ptr& state, messages::spooled_job entry, bool notice_done) {
  if (notice_done) {
    entry.clear_undeliverable();
    entry.clear_notice_due_unix();
    entry.clear_notice_deferrals();
  }
  store(state, entry);
  if (!notice_done) {
    // The notice is tried again with the next round, or at the next start.
    if (entry.job().destinations_size() == 0 && !is_closed(state)) {
      state->schedule(std::chrono::seconds(std::max<int64_t>(0, entry.next_attempt_unix() - unix_now(state))),
                      [state, entry] { send_notice(state, entry); });
      return;
    }
  }
  wait_or_finish(state, entry);
}

std::string destination_list(const google::protobuf::RepeatedPtrField<messages::destination_result>& failed) {
  std::string list;
  for (const auto& result : failed)
    list += (list.empty() ? "" : ", ") + result.address() + " (" + messages::reason_code_Name(result.reason()) + ")";
  return list;
}

/// Sends the notice the job owes its sender for its undeliverable destinations.
void send_notice(const state_ptr& state, messages::spooled_job entry) {
  const auto logger = log::logger();
  const std::string job_id = entry.job().job_id();
  const std::string failed = destination_list(entry.undeliverable());

  std::string no_notice;
  if (entry.reverse_path().empty())
    no_notice = "the message came from the null sender <>";
  else if (is_delivery_status_report(entry.job().received_message()))
    no_notice = "the message is itself a delivery status report";
  if (!no_notice.empty()) {
    state->stats->count_failure(stats_name, "UNDELIVERABLE_NOT_REPORTED");
    logger->error("reception job {}: lost for {}: {}, so no non-delivery notice is sent", job_id, failed, no_notice);
    after_notice(state, std::move(entry), true);
    return;
  }
  if (is_closed(state)) {
    deactivate(state, job_id);
    return;
  }
  // Spool files of older versions have no due time; their notice gets a full
  // lifetime from now.
  if (entry.notice_due_unix() == 0)
    entry.set_notice_due_unix(unix_now(state));

  messages::delivery_failure_notice_request request;
  *request.mutable_job() = entry.job();
  request.mutable_job()->clear_received_message();
  request.mutable_job()->clear_destinations();
  request.set_recipient(entry.reverse_path());
  *request.mutable_failed() = entry.undeliverable();
  const mime::received_parts parts = mime::split_received_message(entry.job().received_message());
  request.mutable_original()->set_subject(parts.field("Subject"));
  request.mutable_original()->set_message_id(parts.field("Message-ID"));
  request.mutable_original()->set_date(parts.field("Date"));
  request.set_arrival_unix(entry.accepted_unix());

  auto done = [state, entry, failed](messages::destination_result notice) mutable {
    const std::string& job_id = entry.job().job_id();
    if (notice.reason() == messages::REASON_NONE) {
      state->stats->count_failure(stats_name, "NON_DELIVERY_NOTICE_SENT");
      log::logger()->warn("reception job {}: not delivered to {}; sent a non-delivery notice to <{}>", job_id, failed,
                          smtp::printable(entry.reverse_path()));
      after_notice(state, std::move(entry), true);
      return;
    }

    const int64_t now = unix_now(state);
    const int64_t notice_expiry = notice_expiry_of(state, entry);
    const bool deferred = notice.reason() == messages::DELIVERY_DEFERRED;
    if (deferred && now < notice_expiry) {
      entry.set_notice_deferrals(entry.notice_deferrals() + 1);
      entry.set_next_attempt_unix(std::min(now + backoff(state, entry.notice_deferrals()).count(), notice_expiry));
      log::logger()->warn("reception job {}: the non-delivery notice to <{}> was deferred ({}); trying again at "
                          "unix time {}, gives up at unix time {}",
                          job_id, smtp::printable(entry.reverse_path()), notice.detail(), entry.next_attempt_unix(),
                          notice_expiry);
      after_notice(state, std::move(entry), false);
      return;
    }
    state->stats->count_failure(stats_name, "NON_DELIVERY_NOTICE_FAILED");
    const std::string failure_text = deferred ? "was still deferred when its lifetime of " +
                                           std::to_string(state->max_queue.count()) + " s ended"
                                     : "failed";
    log::logger()->error("reception job {}: lost for {}: the non-delivery notice to <{}> {} ({}: {}); this log "
                         "is the only record",
                         job_id, failed, smtp::printable(entry.reverse_path()), failure_text,
                         messages::reason_code_Name(notice.reason()), notice.detail());
    after_notice(state, std::move(entry), true);
  };

  try {
    state->notify(std::move(request), std::move(done));
  } catch (const std::exception& e) {
    state->stats->count_failure(stats_name, "SUBMIT_FAILED");
    logger->error("reception job {}: the non-delivery notice could not be submitted and stays in the spool for the "
                  "next start: {}",
                  job_id, e.what());
    deactivate(state, job_id);
  }
}

/// Handles the result of a round: drops the sent destinations, keeps the
/// deferred ones, moves the failed ones to the notice list.
void finish_round(const state_ptr& state, messages::spooled_job entry, const messages::job_result& result) {
  const auto logger = log::logger();
  const std::string job_id = entry.job().job_id();
  const int64_t now = unix_now(state);

  messages::job_request& job = *entry.mutable_job();
  if (result.destinations_size() != job.destinations_size()) {
    // The job failed inside the router before its destinations were judged,
    // so every destination is tried again.
    logger->error("reception job {}: the round ended without a result for each destination; trying all {} again",
                  job_id, job.destinations_size());
    messages::destination_result deferred;
    deferred.set_reason(messages::DELIVERY_DEFERRED);
    messages::job_result all_deferred;
    for (int i = 0; i < job.destinations_size(); ++i)
      *all_deferred.add_destinations() = deferred;
    return finish_round(state, std::move(entry), all_deferred);
  }

  const bool expired = now >= expiry_of(state, entry);
  google::protobuf::RepeatedPtrField<messages::destination_ref> remaining;
  size_t sent = 0;
  std::string deferred_text;
  for (int i = 0; i < result.destinations_size(); ++i) {
    messages::destination_result outcome = result.destinations(i);
    if (outcome.address().empty() && outcome.destination_id().empty())
      outcome.set_address(describe(job.destinations(i)));
    if (was_sent(outcome)) {
      ++sent;
      continue;
    }
    if (outcome.reason() == messages::DELIVERY_DEFERRED && !expired) {
      *remaining.Add() = job.destinations(i);
      deferred_text += (deferred_text.empty() ? "" : "; ") + outcome.address() + ": " + outcome.detail();
      continue;
    }
    // A certificate failure that the source actor already reported to the
    // originator in its certificate notice needs no second notice.
    if (result.notification_sent() && is_certificate_reason(outcome.reason()))
      continue;
    *entry.add_undeliverable() = std::move(outcome);
  }
  *job.mutable_destinations() = std::move(remaining);
  if (entry.undeliverable_size() > 0 && entry.notice_due_unix() == 0)
    entry.set_notice_due_unix(now);

  logger->info("reception job {}: round ended: sent to {}, {} to try again, {} failed for good", job_id, sent,
               job.destinations_size(), entry.undeliverable_size());
  if (job.destinations_size() > 0) {
    entry.set_deferrals(entry.deferrals() + 1);
    entry.set_next_attempt_unix(std::min(now + backoff(state, entry.deferrals()).count(), expiry_of(state, entry)));
    state->stats->count_failure(stats_name, "DELIVERY_DEFERRED");
    logger->warn("reception job {}: {} destination(s) deferred ({}); next attempt in {} s, gives up at unix time {}",
                 job_id, job.destinations_size(), deferred_text, entry.next_attempt_unix() - now,
                 expiry_of(state, entry));
  }

  store(state, entry);
  if (entry.undeliverable_size() > 0) {
    send_notice(state, std::move(entry));
    return;
  }
  if (job.destinations_size() == 0)
    logger->info("reception job {} finished: sent to every destination", job_id);
  wait_or_finish(state, entry);
}

/// Submits the job's remaining destinations; its result goes to finish_round.
void start_round(const state_ptr& state, messages::spooled_job entry, const std::string& session_id) {
  const std::string job_id = entry.job().job_id();
  if (is_closed(state)) {
    deactivate(state, job_id);
    return;
  }

  messages::job_request job = entry.job();
  auto done = [state, entry = std::move(entry)](messages::job_result result) mutable {
    finish_round(state, std::move(entry), result);
  };
  try {
    state->submit(std::move(job), std::move(done));
  } catch (const std::exception& e) {
    state->stats->count_failure(stats_name, "SUBMIT_FAILED");
    log::logger()->error("{}reception job {} could not be submitted and stays in the spool for the next start: {}",
                         session_id.empty() ? "" : "session " + session_id + ": ", job_id, e.what());
    deactivate(state, job_id);
  }
}

/// The recipients of one message that share a route, in envelope order.
struct route_group {
  const config::reception_route* route = nullptr;
  std::vector<std::string> recipients;
};

} // namespace

routing_handler::routing_handler(const config::smtp_reception& settings, std::shared_ptr<stats::registry> stats,
                                 submit_function submit, notice_function notify, clock_function clock,
                                 schedule_function schedule)
    : stats_(stats), clock_(clock), state_(std::make_shared<shared_state>(settings.spool_directory(), stats)) {
  for (const auto& route : settings.routes())
    routes_.emplace(to_lower(route.address()), route);

  const config::smtp_reception filled = config::reception_with_defaults(settings);
  host_name_ = filled.host_name();
  state_->submit = std::move(submit);
  state_->notify = std::move(notify);
  state_->clock = std::move(clock);
  state_->retry_first = std::chrono::seconds(filled.retry_first_seconds());
  state_->retry_max = std::chrono::seconds(filled.retry_max_seconds());
  state_->max_queue = std::chrono::seconds(filled.max_queue_seconds());
  if (schedule) {
    state_->schedule = std::move(schedule);
  } else {
    timer_ = std::make_shared<retry_timer>();
    std::weak_ptr<retry_timer> timer = timer_;
    state_->schedule = [timer](std::chrono::milliseconds delay, std::function<void()> task) {
      if (const auto alive = timer.lock())
        alive->schedule(delay, std::move(task));
    };
  }

  const auto started = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  // The start time orders ids across runs; the random part distinguishes handlers started in the same second.
  std::random_device entropy;
  char random_part[8];
  std::snprintf(random_part, sizeof random_part, "%04x", static_cast<unsigned>(entropy() & 0xffff));
  id_prefix_ = "rcv-" + std::to_string(started) + "-" + random_part + "-";
}

routing_handler::~routing_handler() {
  close();
}

void routing_handler::close() {
  {
    const std::lock_guard<std::mutex> lock(state_->mutex);
    state_->closed = true;
  }
  if (timer_)
    timer_->stop();
}

const config::reception_route* routing_handler::find_route(const std::string& address) const {
  const auto found = routes_.find(to_lower(address));
  return found == routes_.end() ? nullptr : &found->second;
}

std::string routing_handler::next_job_id() {
  char number[16];
  std::snprintf(number, sizeof number, "%06llu", static_cast<unsigned long long>(next_number_++));
  return id_prefix_ + number;
}

smtp::reply routing_handler::check_recipient(const smtp::received_envelope& envelope, const std::string& address) {
  if (find_route(address) != nullptr)
    return {250, "2.1.5", "Recipient OK"};

  stats_->count_failure(stats_name, "UNKNOWN_RECIPIENT");
  log::logger()->info("session {} from {}: rejected recipient <{}>: no reception route for this address",
                      envelope.session_id, envelope.peer, smtp::printable(address));
  return {550, "5.1.1", "No such recipient here: <" + smtp::printable(address, 100) + "> has no reception route"};
}

smtp::reply routing_handler::accept_message(const smtp::received_envelope& envelope, std::string message) {
  stats::actor_stats& figures = stats_->actor(stats_name);
  const auto started = stats::actor_stats::clock::now();
  figures.count_received(0);
  try {
    smtp::reply decision = route_message(envelope, std::move(message));
    figures.count_handled(started);
    return decision;
  } catch (...) {
    figures.count_handled(started);
    throw;
  }
}

smtp::reply routing_handler::route_message(const smtp::received_envelope& envelope, std::string message) {
  const auto logger = log::logger();

  const encryption_check encryption = check_encrypted_content(message);
  if (encryption.encrypted) {
    stats_->count_failure(stats_name, "ENCRYPTED_MAIL_REFUSED");
    logger->info("session {} from {}: rejected an S/MIME-encrypted message from <{}> ({}); nothing was routed",
                 envelope.session_id, envelope.peer, smtp::printable(envelope.mail_from),
                 smtp::printable(encryption.reason));
    return {554, "5.7.1",
            "This device cannot receive S/MIME-encrypted mail; send the message unencrypted (signed is fine)"};
  }

  const size_t lone_break = mime::find_lone_line_break(message);
  if (lone_break != std::string::npos) {
    stats_->count_failure(stats_name, "INVALID_LINE_ENDS");
    logger->warn("session {} from {}: rejected a message with a lone CR or LF at octet {}", envelope.session_id,
                 envelope.peer, lone_break);
    return {554, "5.6.0", "Message contains a lone CR or LF; end every line with CR LF"};
  }

  // Trace information first (RFC 5321 section 4.4). Every message built from
  // this one carries it with the Received: fields it came with.
  const int64_t accepted = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  message.insert(0, received_field(envelope, host_name_, accepted));
  const mime::received_parts parts = mime::split_received_message(message);

  // Each hop adds a Received: field, so a message with very many has looped,
  // for example between two forwarding routes (RFC 5321 section 6.3).
  const size_t hops = parts.fields_named("Received").size() - 1;  // without this router's own
  if (hops >= max_received_fields) {
    stats_->count_failure(stats_name, "MAIL_LOOP");
    logger->warn("session {} from {}: rejected a message from <{}> with {} Received: fields; it is looping",
                 envelope.session_id, envelope.peer, smtp::printable(envelope.mail_from), hops);
    return {554, "5.4.6",
            "Routing loop: the message has " + std::to_string(hops) + " Received: fields; check the forwarding routes"};
  }

  std::vector<route_group> groups;
  for (const auto& recipient : envelope.recipients) {
    const config::reception_route* route = find_route(recipient);
    if (route == nullptr) {
      logger->warn("session {} from {}: recipient <{}> has no route and is skipped", envelope.session_id,
                   envelope.peer, smtp::printable(recipient));
      continue;
    }
    auto group = std::find_if(groups.begin(), groups.end(), [&](const route_group& g) { return g.route == route; });
    if (group == groups.end())
      group = groups.insert(groups.end(), route_group{route, {}});
    if (std::find(group->recipients.begin(), group->recipients.end(), recipient) == group->recipients.end())
      group->recipients.push_back(recipient);
  }
  if (groups.empty()) {
    stats_->count_failure(stats_name, "UNKNOWN_RECIPIENT");
    return {554, "5.5.1", "No valid recipients; none of them has a reception route"};
  }

  const std::string from = from_address(parts.field("From"));
  const std::string originator = !envelope.mail_from.empty() ? envelope.mail_from : from;
  const std::string subject = readable_subject(parts.field("Subject"));

  std::vector<messages::spooled_job> jobs;
  for (const auto& group : groups) {
    messages::spooled_job entry;
    entry.set_reverse_path(envelope.mail_from);
    entry.set_accepted_unix(accepted);
    entry.set_next_attempt_unix(accepted);
    messages::job_request& job = *entry.mutable_job();
    job.set_job_id(next_job_id());
    job.set_function(group.route->function());
    job.set_originator(originator);
    if (group.route->function() == config::PERSONAL_BOX)
      job.set_end_receiver(group.recipients.front());
    for (const auto& destination : group.route->destinations())
      *job.add_destinations() = destination_for(destination);
    job.set_subject(subject);
    job.set_received_message(message);
    jobs.push_back(std::move(entry));
  }

  try {
    state_->spool.write_all(jobs);
  } catch (const router_error& e) {
    stats_->count_failure(stats_name, "SPOOL_FAILED");
    logger->error("session {} from {}: cannot spool the message, so it is not accepted and the client may retry: {}",
                  envelope.session_id, envelope.peer, e.what());
    return {451, "4.3.0", "Cannot store the message now; try again later"};
  }

  std::string job_ids;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const messages::job_request& job = jobs[i].job();
    job_ids += (job_ids.empty() ? "" : ", ") + job.job_id();
    logger->info("session {} from {}: accepted a message from <{}> for <{}> as job {} ({}, {})",
                 envelope.session_id, envelope.peer, smtp::printable(originator),
                 smtp::printable(groups[i].recipients.front()), job.job_id(), config::function_name(job.function()),
                 destination_count(job.destinations_size()));
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      state_->active.insert(job.job_id());
    }
    start_round(state_, std::move(jobs[i]), envelope.session_id);
  }
  return {250, "2.0.0", (jobs.size() == 1 ? "Message accepted as job " : "Message accepted as jobs ") + job_ids};
}

size_t routing_handler::recover() {
  const auto logger = log::logger();
  for (const auto& name : state_->spool.remove_incomplete())
    logger->warn("removed {} from the reception spool's tmp folder: its message was never acknowledged", name);

  size_t resumed = 0;
  for (const auto& file : state_->spool.list()) {
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->active.count(file.stem().string()) > 0)
        continue;
    }

    std::string problem;
    auto entry = state_->spool.read(file, problem);
    if (!entry) {
      stats_->count_failure(stats_name, "SPOOL_FILE_UNREADABLE");
      std::string move_problem;
      const auto moved = state_->spool.move_aside(file, move_problem);
      if (moved.empty())
        logger->error("reception spool file {} is unreadable ({}) and could not be moved aside: {}", file.string(),
                      problem, move_problem);
      else
        logger->error("reception spool file {} is unreadable ({}); moved it to {} for inspection", file.string(),
                      problem, moved.string());
      continue;
    }

    const std::string job_id = entry->job().job_id();
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->closed)
        break;
      state_->active.insert(job_id);
    }
    ++resumed;
    const int64_t now = unix_now(state_);
    if (entry->undeliverable_size() > 0) {
      logger->info("reception job {} found in the spool: sending the non-delivery notice it still owes", job_id);
      send_notice(state_, std::move(*entry));
    } else if (entry->next_attempt_unix() <= now) {
      logger->info("resubmitting reception job {} found in the spool ({} left)", job_id,
                   destination_count(entry->job().destinations_size()));
      start_round(state_, std::move(*entry), "");
    } else {
      logger->info("reception job {} found in the spool: next attempt in {} s", job_id,
                   entry->next_attempt_unix() - now);
      wait_or_finish(state_, *entry);
    }
  }
  return resumed;
}

} // namespace router::reception
