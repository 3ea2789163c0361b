#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace expertflow::api {

// A fixed set of threads for the slow reads (verification, exports, statistics), with a bounded
// queue: each heavy request holds memory while it runs, so past `threads` running and `queued`
// waiting the next one is refused at once (503, Retry-After) instead of starting a thread and a
// buffer of its own.
class WorkPool {
 public:
  WorkPool(std::size_t threads, std::size_t queued) : max_queued_(queued) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~WorkPool() { Shutdown(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Takes no more work, lets what is queued finish, and joins the threads (before what the work
  // uses goes away). Idempotent.
  void Shutdown() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // False, and `work` is not run, when the queue is full or the pool is shut down.
  bool TrySubmit(std::function<void()> work) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(work));
    }
    cv_.notify_one();
    return true;
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> work;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace expertflow::api
