// Captures what the router logs, so a test can check its log lines.
#pragma once

#include "runtime/log/log.hpp"

#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

namespace router::testing {

/// Keeps each router log line as "LEVEL message" in a string.
class string_sink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const auto level = spdlog::level::to_string_view(message.level);
    text_ += std::string(level.data(), level.size()) + " " + std::string(message.payload.data(), message.payload.size()) +
             "\n";
  }
  void flush_() override {}

 private:
  std::string text_;
};

/// Copies the router log, at level info, into a string while it lives.
class log_capture {
 public:
  log_capture() : sink_(std::make_shared<string_sink>()), level_(log::logger()->level()) {
    log::logger()->sinks().push_back(sink_);
    log::logger()->set_level(spdlog::level::info);
  }
  ~log_capture() {
    auto& sinks = log::logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    log::logger()->set_level(level_);
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  std::string text() { return sink_->text(); }

 private:
  std::shared_ptr<string_sink> sink_;
  spdlog::level::level_enum level_;
};

} // namespace router::testing
