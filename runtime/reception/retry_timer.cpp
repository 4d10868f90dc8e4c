#include "runtime/reception/retry_timer.hpp"

#include "runtime/log/log.hpp"

namespace router::reception {

retry_timer::~retry_timer() {
  stop();
}

void retry_timer::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_)
    return;
  tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
  if (!thread_.joinable())
    thread_ = std::thread([this] { run(); });
  wake_.notify_one();
}

void retry_timer::stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    tasks_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

void retry_timer::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = tasks_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }

    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      // An exception would end the process from this thread; the task's job stays in the spool.
      log::logger()->error("reception: a retry task failed: {}; its job stays in the spool for the next start",
                           e.what());
    }
    lock.lock();
  }
}

} // namespace router::reception
