// DeadlineTimer: one thread that wakes at request deadlines and tells the owning batcher to expire
// them, so a timed-out request is rejected at its deadline rather than when the next batch forms.
//
// Threads: Schedule() is thread-safe and cheap (it wakes the timer thread only when the new deadline
// is the earliest). Targets are held by weak_ptr, so a batcher may be destroyed with entries pending.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace serval {

class DeadlineTarget {
 public:
  virtual ~DeadlineTarget() = default;
  // Called on the timer thread with no timer lock held.
  virtual void ExpireDue(int64_t now_ns) = 0;
};

class DeadlineTimer {
 public:
  DeadlineTimer();
  ~DeadlineTimer();  // stops and joins the thread

  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  void Schedule(int64_t deadline_ns, std::weak_ptr<DeadlineTarget> target);

 private:
  struct Entry {
    int64_t deadline_ns;
    std::weak_ptr<DeadlineTarget> target;
    bool operator>(const Entry& o) const { return deadline_ns > o.deadline_ns; }
  };

  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace serval
