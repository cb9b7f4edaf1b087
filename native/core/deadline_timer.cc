#include "deadline_timer.h"

#include "clock.h"

namespace serval {

DeadlineTimer::DeadlineTimer() : thread_([this] { Run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void DeadlineTimer::Schedule(int64_t deadline_ns, std::weak_ptr<DeadlineTarget> target) {
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    earliest = heap_.empty() || deadline_ns < heap_.top().deadline_ns;
    heap_.push(Entry{deadline_ns, std::move(target)});
  }
  if (earliest) cv_.notify_one();
}

void DeadlineTimer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (heap_.empty()) {
      cv_.wait(lock);
      continue;
    }
    int64_t due = heap_.top().deadline_ns;
    int64_t now = NowNs();
    if (due > now) {
      cv_.wait_until(lock, ToTimePoint(due));
      continue;
    }
    // Collect every entry due now; expire outside the lock (ExpireDue takes the batcher's lock and
    // may complete requests).
    std::vector<std::shared_ptr<DeadlineTarget>> targets;
    while (!heap_.empty() && heap_.top().deadline_ns <= now) {
      if (auto t = heap_.top().target.lock()) {
        bool seen = false;
        for (auto& existing : targets) seen = seen || existing == t;
        if (!seen) targets.push_back(std::move(t));
      }
      heap_.pop();
    }
    lock.unlock();
    for (auto& t : targets) t->ExpireDue(now);
    targets.clear();
    lock.lock();
  }
}

}  // namespace serval
