// Crypto worker: builds the S/MIME message for one destination.
#include "actors/actors.hpp"

#include "runtime/cms/worker_rng.hpp"
#include "runtime/compose/build_cache.hpp"
#include "runtime/compose/compose.hpp"
#include "runtime/log/log.hpp"

#include <caf/actor_pool.hpp>
#include <caf/stateful_actor.hpp>

namespace router::actors {

namespace {

struct crypto_worker_state {
  // One per worker: Botan RNGs are not shared between threads.
  std::unique_ptr<cms::worker_rng> rng = cms::make_worker_rng();
  // One per worker, because a CAF actor runs on one thread at a time and the
  // cached Botan signers are not thread-safe. Declared after rng, which it uses.
  std::unique_ptr<compose::build_cache> cache;
};

caf::behavior crypto_worker(caf::stateful_actor<crypto_worker_state>* self, context_ptr context) {
  // Every worker of the pool counts under one name.
  stats::actor_stats* counters = &context->stats->actor("crypto_worker");
  self->state.cache = std::make_unique<compose::build_cache>(context->config, *self->state.rng);
  return {
      [self, context, counters](messages::build_request& request) -> messages::built_message {
        const auto started = begin_handling(self, *counters);
        const auto& plan = request.destination();
        auto built = compose::build_for_destination(*self->state.cache, request.job(), plan, context->clock());
        if (built.reason() != messages::REASON_NONE) {
          counters->count_failure(messages::reason_code_Name(built.reason()));
          log::logger()->warn("crypto_worker: job {} destination {} ({}): not built: {}: {}", built.job_id(), built.index(),
                              built.address(), messages::reason_code_Name(built.reason()), built.detail());
        }
        context->stats->count_crypto_text(built.algorithms());
        end_handling(self, *counters, started);
        return built;
      },
  };
}

} // namespace

caf::actor spawn_crypto_pool(caf::actor_system& system, context_ptr context, size_t workers) {
  auto make_worker = [&system, context] { return system.spawn(crypto_worker, context); };
  return caf::actor_pool::make(system.dummy_execution_unit(), workers, make_worker, caf::actor_pool::round_robin());
}

} // namespace router::actors
