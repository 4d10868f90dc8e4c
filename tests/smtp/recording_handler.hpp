// A reception_handler for the SMTP tests: it records every call and every
// accepted message, refuses some recipients and messages by their text, and
// lets a test wait for messages arriving on session threads.
#pragma once

#include "runtime/smtp/reception_handler.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace router::testing {

class recording_handler : public smtp::reception_handler {
 public:
  struct message {
    smtp::received_envelope envelope;
    std::string data;
  };

  /// Recipients "unknown@..." get 550 5.1.1, "busy@..." 451 4.3.0 and
  /// "throw@..." make the handler throw; all others 250 2.1.5.
  smtp::reply check_recipient(const smtp::received_envelope&, const std::string& address) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    checked_.push_back(address);
    const std::string local = address.substr(0, address.find('@'));
    if (local == "unknown")
      return {550, "5.1.1", "No such recipient here"};
    if (local == "busy")
      return {451, "4.3.0", "Recipient busy, try later"};
    if (local == "throw")
      throw std::runtime_error("recipient lookup failed");
    if (local == "badreply")
      return {250, "9.9", "line one\r\nline two"};
    return {250, "2.1.5", "Recipient OK"};
  }

  /// Messages containing "REFUSE-ME" get 554 5.7.1, "DEFER-ME" 451 4.3.0;
  /// others are recorded and get 250 2.0.0.
  smtp::reply accept_message(const smtp::received_envelope& envelope, std::string data) override {
    std::unique_lock<std::mutex> lock(mutex_);
    ++accept_calls_;
    if (data.find("REFUSE-ME") != std::string::npos)
      return {554, "5.7.1", "Encrypted messages are not accepted here"};
    if (data.find("DEFER-ME") != std::string::npos)
      return {451, "4.3.0", "Spool full, try later"};
    messages_.push_back({envelope, std::move(data)});
    const std::string id = std::to_string(messages_.size());
    lock.unlock();
    arrived_.notify_all();
    return {250, "2.0.0", "Queued as m" + id};
  }

  std::vector<message> messages() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }

  std::vector<std::string> checked_recipients() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return checked_;
  }

  /// How often accept_message was called, whatever it replied.
  size_t accept_calls() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return accept_calls_;
  }

  /// Waits until `count` messages were accepted; false on timeout.
  bool wait_for_messages(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return messages_.size() >= count; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<message> messages_;
  std::vector<std::string> checked_;
  size_t accept_calls_ = 0;
};

} // namespace router::testing
