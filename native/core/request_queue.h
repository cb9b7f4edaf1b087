// RequestQueue: per-priority-level FIFO queues of requests with an index by deadline.
// Each level has a second, delayed list behind it for requests that timed out under timeout_action
// DELAY (Triton's semantics: they keep their level but go after every non-expired request of it).
//
// Not thread-safe: DynamicBatcher guards it with its mutex. The queue owns the requests it holds
// (raw pointers released from RequestPtr on Push, re-wrapped on Pop/Remove).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "inference_request.h"

namespace serval {

class RequestQueue {
 public:
  // `levels` >= 1. Level 1 is the highest priority.
  explicit RequestQueue(uint32_t levels);
  ~RequestQueue();

  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;

  uint32_t levels() const { return static_cast<uint32_t>(heads_.size() / 2); }
  size_t size() const { return size_; }
  size_t size(uint32_t level) const { return level_sizes_[2 * (level - 1)] + level_sizes_[2 * (level - 1) + 1]; }
  uint64_t samples() const { return samples_; }
  bool empty() const { return size_ == 0; }

  // Appends at the tail of req->priority_level (1-based, must be valid), in its delayed list when
  // req->expired_delayed is set.
  void Push(RequestPtr req);
  // Unlinks `req` (which must be queued here) and returns ownership.
  RequestPtr Remove(InferenceRequest* req);

  // Highest-priority, oldest request; nullptr when empty.
  InferenceRequest* Front() const;
  // The request after `req` in scheduling order (across levels); nullptr at the end.
  InferenceRequest* After(const InferenceRequest* req) const;
  // Newest-first order within each list, lists still in priority order (adaptive LIFO): the newest
  // request of the highest non-empty level, and the one after `req` in that order.
  InferenceRequest* NewestFront() const;
  InferenceRequest* NewestAfter(const InferenceRequest* req) const;

  // Earliest deadline among queued requests with one; 0 when none.
  int64_t EarliestDeadline() const;
  // Removes and returns every request whose deadline is <= now.
  std::vector<RequestPtr> TakeExpired(int64_t now_ns);
  // Removes everything.
  std::vector<RequestPtr> TakeAll();

 private:
  void Link(InferenceRequest* req, size_t list);
  void Unlink(InferenceRequest* req);

  std::vector<InferenceRequest*> heads_;
  std::vector<InferenceRequest*> tails_;
  std::vector<size_t> level_sizes_;
  std::multimap<int64_t, InferenceRequest*> deadlines_;
  size_t size_ = 0;
  uint64_t samples_ = 0;
};

}  // namespace serval
