// State shared by every actor of one running router: the loaded config, the
// injected clock, the statistics registry and the delivery target.
#pragma once

#include "runtime/config/config.hpp"
#include "runtime/delivery/delivery.hpp"
#include "runtime/stats/stats.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace router::actors {

using clock_function = std::function<std::chrono::system_clock::time_point()>;

struct router_context {
  std::shared_ptr<const config::loaded_config> config;
  clock_function clock;
  std::shared_ptr<stats::registry> stats;
  std::shared_ptr<delivery::deliverer> deliverer;  // used by the delivery actor only
  delivery::retry_policy retry;
};

using context_ptr = std::shared_ptr<const router_context>;

} // namespace router::actors
