// SharedModels: the process-wide table through which a model's scheduler, owned by the JS environment that
// loaded it (the main thread's ModelWrap), takes requests from other environments (HTTP threads,
// front_end_wrap.h). An environment finds a model by the token its owner published and holds the entry by
// shared_ptr; the owner retires the entry before its scheduler is destroyed, waiting for any caller
// still inside it, after which callers are refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/model_scheduler.h"

namespace serval::binding {

class SharedModel {
 public:
  SharedModel(ModelScheduler* scheduler, std::shared_ptr<const ModelSpec> spec)
      : scheduler_(scheduler), spec_(std::move(spec)) {}

  // A caller in another environment enters before it touches the scheduler and leaves after;
  // false: the owner retired it (the model is gone).
  bool Enter() {
    users_.fetch_add(1, std::memory_order_seq_cst);
    if (retired_.load(std::memory_order_seq_cst)) {
      users_.fetch_sub(1, std::memory_order_release);
      return false;
    }
    return true;
  }
  void Leave() { users_.fetch_sub(1, std::memory_order_release); }
  // The owner, before it destroys the scheduler: later Enter calls fail; waits out the callers inside.
  void Retire();

  // The owner's door for other environments: while closed, their enqueues are refused (CLOSED) so that they
  // hand the request to the owner instead (a rollout began on the model, say); cancels still pass.
  void SetOpen(bool open) { open_.store(open, std::memory_order_seq_cst); }
  bool open() const { return open_.load(std::memory_order_seq_cst); }

  ModelScheduler* scheduler() const { return scheduler_; }
  const ModelSpec& spec() const { return *spec_; }

 private:
  ModelScheduler* const scheduler_;
  const std::shared_ptr<const ModelSpec> spec_;
  std::atomic<uint32_t> users_{0};
  std::atomic<bool> retired_{false};
  std::atomic<bool> open_{true};
};

// Scoped Enter/Leave.
class SharedModelUse {
 public:
  explicit SharedModelUse(SharedModel& m) : m_(m), entered_(m.Enter()) {}
  ~SharedModelUse() {
    if (entered_) m_.Leave();
  }
  explicit operator bool() const { return entered_; }

 private:
  SharedModel& m_;
  const bool entered_;
};

// Publishes `model` under a new token (never 0, never reused in this process).
uint64_t PublishSharedModel(std::shared_ptr<SharedModel> model);
// The model published under `token`, or null when there is none (never published, or withdrawn).
std::shared_ptr<SharedModel> FindSharedModel(uint64_t token);
void WithdrawSharedModel(uint64_t token);

}  // namespace serval::binding
