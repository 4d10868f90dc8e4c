// A thread that runs tasks after a delay: the reception spool's retry timer.
//
// Delays run on the steady clock, so a change of the wall clock neither
// hastens nor holds back a retry. Tasks run one at a time on the timer's own
// thread, which starts with the first schedule() call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace router::reception {

class retry_timer {
 public:
  retry_timer() = default;
  ~retry_timer();
  retry_timer(const retry_timer&) = delete;
  retry_timer& operator=(const retry_timer&) = delete;

  /// Runs `task` once `delay` has passed; does nothing after stop().
  void schedule(std::chrono::milliseconds delay, std::function<void()> task);

  /// Drops every task that has not started, waits for a running one to return
  /// and ends the thread. Must not be called from a task.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace router::reception
