// DynamicBatcher: the request queue and batch former of one model instance (Triton's dynamic batcher
// semantics and names), plus the hand-off to the instance's executor.
//
// Lifecycle: created by ModelScheduler via Create(); Enqueue() until Close(); the executor loops on
// NextBatch() / CompleteBatch() until NextBatch() reports kClosed.
//
// Threads and locks: one mutex (mu_) guards the queue, the in-flight batch and the flags; one
// condition variable wakes the executor. Callers' threads call Enqueue()/Cancel(), the executor thread
// calls NextBatch()/CompleteBatch(), the DeadlineTimer thread calls ExpireDue(), and any thread may call
// FailInflight()/Close(). Finished requests go to the CompletionSink after mu_ is released.
//
// Batch rule: Triton's, in BatchPlanner (batch_planner.h), applied to the queue in priority order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "batch.h"
#include "batch_planner.h"
#include "batching_config.h"
#include "deadline_timer.h"
#include "execution_stream.h"
#include "inference_request.h"
#include "instance_load.h"
#include "latency_profile.h"
#include "model_stats.h"
#include "queue_gate.h"
#include "request_queue.h"
#include "tensor.h"

namespace serval {

// Queued-request counts per priority level shared by all instances of one model version, so that
// max_queue_size bounds the model's queue as in Triton (not each instance's).
struct ModelQueueCounters {
  explicit ModelQueueCounters(uint32_t levels) : per_level(levels ? levels : 1) {
    for (auto& c : per_level) c.store(0);
  }
  std::vector<std::atomic<uint32_t>> per_level;
};

class DynamicBatcher final : public DeadlineTarget, public std::enable_shared_from_this<DynamicBatcher> {
 public:
  struct Deps {
    std::shared_ptr<const ModelSpec> spec;
    BatchingConfig config;
    uint32_t instance_index = 0;
    std::shared_ptr<ExecutionStream> stream;
    CompletionSink* sink = nullptr;              // outlives the batcher
    DeadlineTimer* timer = nullptr;              // outlives the batcher
    std::shared_ptr<ModelStats> stats;
    std::shared_ptr<ModelQueueCounters> queue_counters;
    // The model's admission policy (null: admit everything): its queue discipline is applied at every
    // batch formation, and it hears of every finished request (OnFinish).
    std::shared_ptr<AdmissionPolicy> admission;
  };

  static Status Create(Deps deps, std::shared_ptr<DynamicBatcher>* out);
  ~DynamicBatcher() override;

  // Takes ownership of `req` only when it returns OK. Resolves the priority level (0 or out of range →
  // default) and the deadline from the level's queue policy (the effective deadline, budget_deadline_ns,
  // becomes the sooner of it and any the scheduler set). Fails with kQueueFull at max_queue_size and
  // kClosed after Close().
  Status Enqueue(RequestPtr& req);

  enum class WaitResult { kBatch, kTimeout, kClosed };
  // Executor side. Blocks up to `max_wait_ns` for a batch. On kBatch, *out points at the in-flight batch
  // (owned by the batcher) until CompleteBatch()/FailInflight(). kClosed: closed and drained, exit.
  WaitResult NextBatch(int64_t max_wait_ns, const Batch** out);
  // Splits the batch outputs (indexed like ModelSpec::outputs; data == nullptr for absent ones) back to
  // the requests and completes them. A malformed output fails the whole batch with kExecutionFailed.
  Status CompleteBatch(uint64_t batch_id, const std::vector<OutputView>& outputs);
  // Fails the in-flight batch (if `batch_id` matches, or any when batch_id == 0): executor error or death.
  void FailInflight(uint64_t batch_id, Status status);

  // Removes a queued request registered as cancellable and completes it with kCancelled.
  bool Cancel(uint64_t request_id);
  void ExpireDue(int64_t now_ns) override;

  // Stops accepting. drain=true: queued requests are still served, then NextBatch() returns kClosed.
  // drain=false: queued requests are completed with kClosed now.
  void Close(bool drain);
  bool Drained() const;  // closed, queue empty, nothing in flight

  InstanceLoad Load(int64_t now_ns) const;
  const InstanceCounters& counters() const { return counters_; }
  InstanceCounters& mutable_counters() { return counters_; }
  LatencyProfile& profile() { return profile_; }
  const ModelSpec& spec() const { return *deps_.spec; }
  const BatchingConfig& config() const { return deps_.config; }
  uint32_t index() const { return deps_.instance_index; }
  const ExecutionStream& stream() const { return *deps_.stream; }

 private:
  explicit DynamicBatcher(Deps deps);

  // mu_ held. With a gate: batch control (deadline caps, early dispatch) and newest-first order.
  BatchPlan PlanBatch(int64_t now_ns, const QueueGate* gate) const;
  // mu_ held: drops the queued requests the gate sheds into `out`.
  void GateQueue(QueueGate& gate, std::vector<RequestPtr>* out);
  std::unique_ptr<Batch> TakeBatch(const BatchPlan& p, int64_t now_ns, bool lifo);  // mu_ held
  Status EnsureStaging(size_t input, size_t bytes);  // mu_ held
  RequestPtr Dequeue(InferenceRequest* req);        // mu_ held: queue removal + counters
  void NoteFront();                                 // mu_ held: counters_.oldest_enqueue_ns
  void Finish(std::vector<RequestPtr> done);        // mu_ NOT held: stats + sink
  Status SplitOutputs(const Batch& batch, const std::vector<OutputView>& outputs);

  Deps deps_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  RequestQueue queue_;
  std::unordered_map<uint64_t, InferenceRequest*> cancellable_;
  std::unique_ptr<Batch> inflight_;
  std::vector<std::shared_ptr<StagingBuffer>> staging_;
  uint64_t next_batch_id_ = 1;
  uint64_t next_buffer_id_ = 1;
  bool accepting_ = true;
  bool executor_waiting_ = false;
  InstanceCounters counters_;
  LatencyProfile profile_;
  QueueDiscipline discipline_;
  QueueGateState gate_state_;  // mu_
  int64_t last_end_ns_ = 0;      // mu_: when the last batch completed
  bool backlog_at_end_ = false;  // mu_: requests were waiting then (the next start measures the turnaround)
};

}  // namespace serval
