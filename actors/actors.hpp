// The router's actors and how they are spawned.
//
//   source actor (one per function) -> crypto-worker pool -> delivery actor
//                                    \-> notification actor (certificate and non-delivery notices)
//
// Each handler catches every exception it can meet and turns it into a reason
// code, because an exception escaping a CAF 0.17 handler ends the actor.
#pragma once

#include "actors/context.hpp"
#include "actors/instrument.hpp"
#include "actors/message_types.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <string>

namespace router::actors {

/// Handles build_request -> built_message: certificate checks at build time,
/// signing and encryption. Stateless but for its random source.
caf::actor spawn_crypto_pool(caf::actor_system& system, context_ptr context, size_t workers);

/// Handles built_message -> destination_result. Delivers the messages of one job
/// one by one in destination order, whatever order they arrive in. With more
/// than one thread, which the deliverer must allow, each job goes to the
/// thread its job id hashes to, so jobs are delivered in parallel.
caf::actor spawn_delivery(caf::actor_system& system, context_ptr context, size_t threads = 1);

/// Handles certificate_notice_request -> destination_result of the notice; a
/// result with reason NO_NOTICE_TARGET when the job names no one to notify.
/// Handles delivery_failure_notice_request -> destination_result of the
/// non-delivery notice to a received message's sender.
caf::actor spawn_notifier(caf::actor_system& system, context_ptr context, caf::actor delivery);

/// Handles health_check_request -> health_check_result: judges every configured
/// certificate and mails the administrator at most one warning per UTC day
/// when any is unusable or expiring. With a non-zero interval it checks once
/// when spawned and then once per interval on its own timer.
caf::actor spawn_health_monitor(caf::actor_system& system, context_ptr context, caf::actor delivery,
                                std::chrono::seconds interval);

/// Handles job_request -> job_result for one source function (or the two report
/// functions together): plans the job, fans its destinations out to the crypto
/// pool, collects the results and requests a certificate notice when one is due.
caf::actor spawn_source(caf::actor_system& system, context_ptr context, std::string name, caf::actor crypto_pool,
                        caf::actor delivery, caf::actor notifier);

} // namespace router::actors
