// Simulator: a discrete-event simulation of serval's own queues, batchers, instances and placement
// policies, with the native core's semantics: the same PlacementPolicy classes choose, the same
// BatchPlanner forms batches (preferred sizes, max_queue_delay), each instance keeps the same
// InstanceCounters and LatencyProfile (seeded, then updated online from the simulated executions),
// queue timeouts expire queued requests and max_queue_size rejects them. Execution times come from a
// "true" latency curve per instance with log-normal noise. No Node, no threads, no wall clock.
//
// Admission: an optional AdmissionPolicy per model (the live classes) decides at arrival as
// ModelScheduler::Enqueue does, and its QueueDiscipline is applied through the same QueueGate at every
// batch formation (drops, deadline caps, early dispatch, adaptive LIFO); OnFinish hears every finished
// request in the same order as live. The effective deadline is the sooner of the queue timeout and, when
// the SLO is handed to the policies (slo_to_policy), the SLO.
//
// Differences from the live runtime (documented in docs/placement.md): one priority level, every
// request of a model has the same shape, and the executor picks up its next batch with no delay
// (the measured per-request overhead is added to each latency instead).
//
// Use: Create() with the models and instances, then Run() once per arrival sequence with one policy
// per model (the caller owns the policies; Run() resets the instances but not the policies' state).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "arrival_process.h"
#include "batching_config.h"
#include "instance_load.h"
#include "latency_profile.h"
#include "admission_policy.h"
#include "placement_policy.h"
#include "queue_gate.h"
#include "sim_random.h"
#include "status.h"

namespace serval::sim {

struct SimInstanceSpec {
  uint32_t model = 0;
  // True mean execution time of a batch of b samples, index b - 1, for b = 1..max(1, max_batch_size).
  std::vector<double> latency_ns;
  // Coefficient of variation of each execution (log-normal around the mean).
  double noise_cv = 0;
  // What the instance's LatencyProfile is seeded with (index b - 1; 0 = not seeded). Empty: the true
  // curve at b = 1 and at every power of two up to the max (what `serval profile` measures).
  std::vector<double> seed_profile_ns;
};

struct SimModelSpec {
  BatchingConfig batching;     // max_batch_size, preferred sizes, max_queue_delay (one priority level)
  int64_t slo_ns = 0;          // the latency objective for attainment and goodput (0: none)
  bool slo_to_policy = true;   // hand slo_ns to the policy (PlacementQuery::slo_ns)
  int64_t queue_timeout_ns = 0;  // Triton's default_timeout: queued longer than this -> TIMEOUT
  uint32_t max_queue_size = 0;   // Triton's max_queue_size (0 = unbounded), for the whole model
};

struct SimOptions {
  uint64_t seed = 1;                // execution-time noise
  int64_t decision_ns = 0;          // placement cost, added to every request's latency
  int64_t overhead_ns = 0;          // per-request overhead outside the batch (dispatch, completion)
  int64_t warmup_ns = 0;            // requests arriving earlier are run but not measured
  bool online_profile = true;       // LatencyProfile::Observe after every simulated batch
  bool keep_latencies = false;      // return every measured request's latency
  double norm_latency_cap = 4.0;    // cap of latency / SLO in SimResult::mean_norm_latency
};

struct SimResult {
  uint64_t arrivals = 0;   // measured requests
  uint64_t ok = 0;
  uint64_t within_slo = 0;
  uint64_t timeouts = 0;
  uint64_t rejected = 0;
  uint64_t shed = 0;       // by admission, at arrival or from a queue
  std::vector<uint64_t> shed_by_reason;  // indexed by ShedReason (kShedReasonCount entries)
  double span_s = 0;       // from the warm-up's end to the last measured arrival
  double attainment = 0;   // within_slo / arrivals
  double goodput = 0;      // within_slo / span_s
  double throughput = 0;   // ok / span_s
  // Nearest-rank percentiles over all measured requests, failures counted as infinite (then +inf).
  double p50_ns = 0, p95_ns = 0, p99_ns = 0, mean_ok_ns = 0;
  // Mean over measured requests of min(latency / SLO, cap), failures counted as the cap.
  double mean_norm_latency = 0;
  double mean_batch = 0;
  uint64_t batches = 0;
  uint64_t decisions = 0;
  std::vector<uint64_t> placements;  // per instance
  std::vector<double> busy_fraction;  // per instance, over the whole run
  std::vector<double> latencies_ns;   // per measured request in arrival order (-1 = failed); keep_latencies
};

class Simulator {
 public:
  static Status Create(std::vector<SimModelSpec> models, std::vector<SimInstanceSpec> instances, SimOptions options,
                       std::unique_ptr<Simulator>* out);

  // Runs `arrivals` (ascending times) to completion. policies[m] places model m's requests.
  // admissions[m] (optional: empty, or null entries) decides whether model m's requests run.
  Status Run(const std::vector<SimArrival>& arrivals, const std::vector<PlacementPolicy*>& policies, SimResult* out,
             const std::vector<AdmissionPolicy*>& admissions = {});

  // Batches formed in the last Run(), as (instance, start_ns, request indices), when recording was
  // enabled with RecordBatches(true). For tests against the live DynamicBatcher.
  struct FormedBatch {
    uint32_t instance;
    int64_t start_ns;
    std::vector<uint32_t> requests;
  };
  void RecordBatches(bool on) { record_batches_ = on; }
  const std::vector<FormedBatch>& batches() const { return formed_; }

  size_t instance_count() const { return instances_.size(); }
  size_t model_instance_count(size_t model) const { return model_instances_[model].size(); }
  uint32_t model_max_batch_size(size_t model) const { return models_[model].batching.max_batch_size; }

 private:
  struct Request {
    int64_t arrival_ns;
    int64_t deadline_ns;
    int64_t end_ns;
    int64_t budget_ns;  // effective deadline (absolute), 0 = none
    uint32_t model;
    uint32_t samples;
    uint32_t instance;
    enum State : uint8_t { kQueued, kRunning, kDone, kTimedOut, kRejected, kShed } state;
    ShedReason shed_reason;
  };
  struct Instance {
    SimInstanceSpec spec;
    uint32_t model = 0;
    uint32_t index_in_model = 0;
    InstanceCounters counters;
    std::unique_ptr<LatencyProfile> profile;
    std::deque<uint32_t> queue;  // request indices; timed-out entries stay until they reach the front
    std::vector<uint32_t> running;
    bool busy = false;
    int64_t batch_start_ns = 0;
    int64_t timer_at_ns = -1;
    SimRandom noise{1};
    uint64_t placements = 0;
    uint64_t busy_ns = 0;
    QueueGateState gate;
  };
  struct Event {
    int64_t t_ns;
    uint64_t seq;
    uint32_t kind;  // kBatchDone, kTimer, kDeadline
    uint32_t target;
    bool operator>(const Event& o) const { return t_ns != o.t_ns ? t_ns > o.t_ns : seq > o.seq; }
  };
  enum : uint32_t { kBatchDone = 0, kTimer = 1, kDeadline = 2 };

  Simulator() = default;
  void Reset();
  void Push(int64_t t, uint32_t kind, uint32_t target);
  void Arrive(uint32_t r, PlacementPolicy* policy, AdmissionPolicy* admission, int64_t now);
  void Shed(uint32_t r, ShedReason why, int64_t now);  // from a queue
  void Finished(uint32_t r, bool ok);                  // admission feedback, in-flight count
  void TryDispatch(uint32_t inst, int64_t now);
  void FinishBatch(uint32_t inst, int64_t now);
  void Expire(uint32_t r, int64_t now);
  void NoteFront(Instance& in);
  void Summarise(SimResult* out) const;

  std::vector<SimModelSpec> models_;
  std::vector<std::vector<uint32_t>> model_instances_;
  std::vector<std::unique_ptr<Instance>> instances_;
  SimOptions options_;
  std::vector<Request> requests_;
  std::vector<uint32_t> model_queued_;
  std::vector<int64_t> model_in_flight_;
  std::vector<AdmissionPolicy*> admissions_;  // per model, during Run(); may hold nulls
  std::vector<QueueDiscipline> disciplines_;  // admissions_[m]'s queue discipline (none for nulls)
  std::vector<Event> heap_;
  uint64_t seq_ = 0;
  uint64_t batches_ = 0;
  uint64_t batch_samples_ = 0;
  uint64_t decisions_ = 0;
  int64_t last_event_ns_ = 0;
  bool record_batches_ = false;
  std::vector<FormedBatch> formed_;
  std::vector<InstanceLoad> loads_;
};

}  // namespace serval::sim
