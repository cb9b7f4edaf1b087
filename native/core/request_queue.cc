#include "request_queue.h"

namespace serval {

RequestQueue::RequestQueue(uint32_t levels)
    : heads_(2 * (levels ? levels : 1), nullptr), tails_(heads_.size(), nullptr), level_sizes_(heads_.size(), 0) {}

RequestQueue::~RequestQueue() { TakeAll(); }

void RequestQueue::Link(InferenceRequest* req, size_t i) {
  req->next = nullptr;
  req->prev = tails_[i];
  if (tails_[i]) tails_[i]->next = req; else heads_[i] = req;
  tails_[i] = req;
  ++level_sizes_[i];
}

void RequestQueue::Unlink(InferenceRequest* req) {
  size_t i = 2 * (req->queue_level - 1) + (req->expired_delayed ? 1 : 0);
  if (req->prev) req->prev->next = req->next; else heads_[i] = req->next;
  if (req->next) req->next->prev = req->prev; else tails_[i] = req->prev;
  req->prev = req->next = nullptr;
  --level_sizes_[i];
}

void RequestQueue::Push(RequestPtr owned) {
  InferenceRequest* req = owned.release();
  req->queue_level = req->priority_level;
  Link(req, 2 * (req->priority_level - 1) + (req->expired_delayed ? 1 : 0));
  if (req->deadline_ns > 0) {
    req->deadline_it = deadlines_.emplace(req->deadline_ns, req);
    req->in_deadline_index = true;
  }
  ++size_;
  samples_ += req->batch_size;
}

RequestPtr RequestQueue::Remove(InferenceRequest* req) {
  Unlink(req);
  if (req->in_deadline_index) {
    deadlines_.erase(req->deadline_it);
    req->in_deadline_index = false;
  }
  --size_;
  samples_ -= req->batch_size;
  return RequestPtr(req);
}

InferenceRequest* RequestQueue::Front() const {
  for (InferenceRequest* head : heads_) if (head) return head;
  return nullptr;
}

InferenceRequest* RequestQueue::After(const InferenceRequest* req) const {
  if (req->next) return req->next;
  size_t list = 2 * (req->queue_level - 1) + (req->expired_delayed ? 1 : 0);
  for (size_t i = list + 1; i < heads_.size(); ++i) if (heads_[i]) return heads_[i];
  return nullptr;
}

InferenceRequest* RequestQueue::NewestFront() const {
  for (InferenceRequest* tail : tails_) if (tail) return tail;
  return nullptr;
}

InferenceRequest* RequestQueue::NewestAfter(const InferenceRequest* req) const {
  if (req->prev) return req->prev;
  size_t list = 2 * (req->queue_level - 1) + (req->expired_delayed ? 1 : 0);
  for (size_t i = list + 1; i < tails_.size(); ++i) if (tails_[i]) return tails_[i];
  return nullptr;
}

int64_t RequestQueue::EarliestDeadline() const {
  return deadlines_.empty() ? 0 : deadlines_.begin()->first;
}

std::vector<RequestPtr> RequestQueue::TakeExpired(int64_t now_ns) {
  std::vector<RequestPtr> out;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ns) {
    out.push_back(Remove(deadlines_.begin()->second));
  }
  return out;
}

std::vector<RequestPtr> RequestQueue::TakeAll() {
  std::vector<RequestPtr> out;
  while (InferenceRequest* r = Front()) out.push_back(Remove(r));
  return out;
}

}  // namespace serval
