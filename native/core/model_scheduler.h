// ModelScheduler: one model version's instances (each a DynamicBatcher on its own ExecutionStream),
// its placement and admission policies and its stats. Enqueue() resolves the request's effective
// deadline (the sooner of its queue timeout and its SLO), places it, asks the admission policy whether
// it runs (a shed request fails at once with kShed, never queued), then queues it on that instance.
//
// Threads: Enqueue()/Cancel() from any thread; the policies are fixed at Create (read without a lock)
// and thread-safe, and the batchers lock themselves.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admission_policy.h"
#include "batching_config.h"
#include "deadline_timer.h"
#include "dynamic_batcher.h"
#include "execution_stream.h"
#include "model_stats.h"
#include "placement_policy.h"
#include "tensor.h"

namespace serval {

struct InstanceSpec {
  StreamKind kind = StreamKind::kCpu;
  int device = 0;
};

class ModelScheduler {
 public:
  struct Options {
    ModelSpec spec;
    BatchingConfig batching;
    std::vector<InstanceSpec> instances;  // at least one
    std::shared_ptr<PlacementPolicy> policy;
    // Null: admit everything (Triton's behaviour).
    std::shared_ptr<AdmissionPolicy> admission;
    // The model's latency objective, handed to the policy with every decision (0 = not set).
    int64_t slo_ns = 0;
    CompletionSink* sink = nullptr;       // outlives the scheduler
    DeadlineTimer* timer = nullptr;       // outlives the scheduler
    StreamPool* streams = nullptr;        // outlives the scheduler
  };

  static Status Create(Options options, std::unique_ptr<ModelScheduler>* out);
  ~ModelScheduler();  // returns the streams to the pool

  // Places and queues `req`; takes ownership only on OK (then `*placed` = the chosen instance).
  Status Enqueue(RequestPtr& req, uint32_t* placed = nullptr);
  bool Cancel(uint32_t instance, uint64_t request_id);

  std::string admission_name() const { return admission_ ? admission_->name() : "none"; }
  const AdmissionPolicy* admission() const { return admission_.get(); }
  // Decisions the placement policy handed to a fallback rule.
  uint64_t policy_fallbacks() const { return policy_->fallbacks(); }

  // Stop accepting; drain (serve what is queued) or reject queued requests with kClosed.
  void Close(bool drain);
  bool Drained() const;

  const ModelSpec& spec() const { return *spec_; }
  const BatchingConfig& batching() const { return batching_; }
  size_t instance_count() const { return batchers_.size(); }
  const std::shared_ptr<DynamicBatcher>& instance(size_t i) const { return batchers_[i]; }
  ModelStats& stats() { return *stats_; }
  uint64_t pending() const;

 private:
  ModelScheduler() = default;

  std::shared_ptr<const ModelSpec> spec_;
  BatchingConfig batching_;
  std::vector<std::shared_ptr<DynamicBatcher>> batchers_;
  std::vector<std::shared_ptr<ExecutionStream>> streams_;
  StreamPool* pool_ = nullptr;
  std::shared_ptr<ModelStats> stats_;
  int64_t slo_ns_ = 0;
  std::shared_ptr<AdmissionPolicy> admission_;  // immutable after Create
  std::shared_ptr<PlacementPolicy> policy_;  // immutable after Create
};

}  // namespace serval
