// Maildir outbox: each message is written to DIR/tmp, flushed to disk and
// renamed into DIR/new as <unique>.eml, so a reader never sees half a message.
// A message given as a file is flushed and renamed into DIR/new when it is on
// the outbox's file system, else copied in chunks through DIR/tmp first.
#pragma once

#include "runtime/delivery/delivery.hpp"

#include <atomic>
#include <filesystem>

namespace router::delivery {

class maildir_outbox : public deliverer {
 public:
  /// Creates DIR, DIR/tmp, DIR/new and DIR/cur when missing; throws delivery_error.
  explicit maildir_outbox(std::filesystem::path directory);

  receipt deliver(const envelope& message) override;
  std::string describe() const override;

  /// Returns true: each message has its own file, and the name sequence is atomic.
  bool concurrent_deliveries() const override { return true; }

 private:
  std::string unique_name(const envelope& message);
  receipt move_message_file(const envelope& message, const std::string& name);

  std::filesystem::path directory_;
  std::atomic<unsigned long> sequence_{0};
};

} // namespace router::delivery
