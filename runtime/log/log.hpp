// The router's logger: spdlog, one line per event, to stderr.
//
// Lines name the job and destination they concern. Never pass a key, a
// password or a message body to it.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace router::log {

/// Returns the shared router logger, made on first use.
std::shared_ptr<spdlog::logger> logger();

/// Sets the level by name: trace, debug, info, warn, error, critical or off.
/// Returns false for an unknown name.
bool set_level(const std::string& level);

} // namespace router::log
