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
  explicit shared_state(std::filesystem::path directory) : spool(std::move(directory)) {}

  job_spool spool;
  std::mutex mutex;
  std::set<std::string> in_flight;  // job ids submitted and not yet finished
};

namespace {

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Returns "1 destination" or "N destinations".
std::string destination_count(int count) {
  return std::to_string(count) + (count == 1 ? " destination" : " destinations");
}

/// Returns text such as "sent to 2 of 3 destinations" for a job result.
std::string summarize(const messages::job_result& result) {
  int sent = 0;
  for (const auto& destination : result.destinations()) {
    const auto outcome = destination.outcome();
    if (outcome != messages::REJECTED && outcome != messages::FAILED && outcome != messages::OUTCOME_UNSPECIFIED)
      ++sent;
  }
  return "sent to " + std::to_string(sent) + " of " + destination_count(result.destinations_size());
}

messages::destination_ref destination_for(const std::string& destination) {
  messages::destination_ref reference;
  if (destination.find('@') != std::string::npos)
    reference.set_address(destination);
  else
    reference.set_id(destination);
  return reference;
}

/// The recipients of one message that share a route, in envelope order.
struct route_group {
  const config::reception_route* route = nullptr;
  std::vector<std::string> recipients;
};

} // namespace

routing_handler::routing_handler(const config::smtp_reception& settings, std::shared_ptr<stats::registry> stats,
                                 submit_function submit, clock_function clock)
    : stats_(std::move(stats)),
      submit_(std::move(submit)),
      clock_(std::move(clock)),
      state_(std::make_shared<shared_state>(settings.spool_directory())) {
  for (const auto& route : settings.routes())
    routes_.emplace(to_lower(route.address()), route);

  const auto started = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  // The start time orders ids across runs; the random part distinguishes handlers started in the same second.
  std::random_device entropy;
  char random_part[8];
  std::snprintf(random_part, sizeof random_part, "%04x", static_cast<unsigned>(entropy() & 0xffff));
  id_prefix_ = "rcv-" + std::to_string(started) + "-" + random_part + "-";
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

  const mime::received_parts parts = mime::split_received_message(message);
  const std::string from = from_address(parts.field("From"));
  const std::string originator = !envelope.mail_from.empty() ? envelope.mail_from : from;
  const std::string subject = readable_subject(parts.field("Subject"));

  std::vector<messages::job_request> jobs;
  for (const auto& group : groups) {
    messages::job_request job;
    job.set_job_id(next_job_id());
    job.set_function(group.route->function());
    job.set_originator(originator);
    if (group.route->function() == config::PERSONAL_BOX)
      job.set_end_receiver(group.recipients.front());
    for (const auto& destination : group.route->destinations())
      *job.add_destinations() = destination_for(destination);
    job.set_subject(subject);
    job.set_received_message(message);
    jobs.push_back(std::move(job));
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
    job_ids += (job_ids.empty() ? "" : ", ") + jobs[i].job_id();
    logger->info("session {} from {}: accepted a message from <{}> for <{}> as job {} ({}, {})",
                 envelope.session_id, envelope.peer, smtp::printable(originator),
                 smtp::printable(groups[i].recipients.front()), jobs[i].job_id(),
                 config::function_name(jobs[i].function()), destination_count(jobs[i].destinations_size()));
    submit(std::move(jobs[i]), envelope.session_id);
  }
  return {250, "2.0.0", (jobs.size() == 1 ? "Message accepted as job " : "Message accepted as jobs ") + job_ids};
}

bool routing_handler::submit(messages::job_request job, const std::string& session_id) {
  const std::string job_id = job.job_id();
  {
    const std::lock_guard<std::mutex> lock(state_->mutex);
    state_->in_flight.insert(job_id);
  }

  const std::shared_ptr<shared_state> state = state_;
  auto done = [state, job_id](messages::job_result result) {
    log::logger()->info("reception job {} finished: {}", job_id, summarize(result));
    std::string problem;
    if (!state->spool.remove(job_id, problem))
      log::logger()->error("reception job {} finished, but its spool file stays, so the next start sends it "
                           "again: {}",
                           job_id, problem);
    const std::lock_guard<std::mutex> lock(state->mutex);
    state->in_flight.erase(job_id);
  };

  try {
    submit_(std::move(job), std::move(done));
    return true;
  } catch (const std::exception& e) {
    stats_->count_failure(stats_name, "SUBMIT_FAILED");
    log::logger()->error("{}reception job {} could not be submitted and stays in the spool for the next start: {}",
                         session_id.empty() ? "" : "session " + session_id + ": ", job_id, e.what());
    const std::lock_guard<std::mutex> lock(state_->mutex);
    state_->in_flight.erase(job_id);
    return false;
  }
}

size_t routing_handler::recover() {
  const auto logger = log::logger();
  for (const auto& name : state_->spool.remove_incomplete())
    logger->warn("removed {} from the reception spool's tmp folder: its message was never acknowledged", name);

  size_t submitted = 0;
  for (const auto& file : state_->spool.list()) {
    {
      const std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->in_flight.count(file.stem().string()) > 0)
        continue;
    }

    std::string problem;
    auto job = state_->spool.read(file, problem);
    if (!job) {
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

    logger->info("resubmitting reception job {} found in the spool", job->job_id());
    if (submit(std::move(*job), ""))
      ++submitted;
  }
  return submitted;
}

} // namespace router::reception
