// AdmissionPolicy: decides *whether* a request runs (admit or shed at arrival) and, through its
// QueueDiscipline, *when* and in what batch (drop queued requests that can no longer make their
// deadline, cap batches by deadline slack, dispatch early, CoDel, adaptive LIFO). Placement policies
// decide *where*; one admission policy per model sits behind this one interface, like placement.
//
// Threads: Admit() and OnFinish() may be called concurrently from any thread (callers' threads at
// arrival, executor and timer threads at completion); implementations keep their state in atomics or
// behind their own short lock, never one of the scheduler's. Admit() must not allocate or block.
// The queue-side work (ApplyQueueDiscipline in queue_gate.h) runs under the instance's lock and is
// shared verbatim by the live DynamicBatcher and the simulator.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "instance_load.h"
#include "status.h"

namespace serval {

// Why a request was shed. Stable names (ShedReasonName) appear in stats and metrics.
enum class ShedReason : uint8_t {
  kNone = 0,
  kDeadline,     // at arrival: predicted to finish after its deadline on every instance
  kLate,         // while queued: can no longer finish by its deadline (dropped before it runs)
  kCodel,        // while queued: waited past CoDel's sojourn limit while the queue was congested
  kConcurrency,  // at arrival: the model's adaptive in-flight limit (for its priority) is reached
  kLearned,      // at arrival: the learned policy chose to shed
};
constexpr size_t kShedReasonCount = 6;
const char* ShedReasonName(ShedReason r);

// What the queue side of an admission policy does at batch formation (see queue_gate.h).
struct QueueDiscipline {
  // Drop queued requests predicted to finish after their deadline (Clockwork's re-check).
  bool drop_late = false;
  // Cap each batch so that none of its requests finishes late, and send a forming batch before
  // max_queue_delay when waiting would make its oldest request late (Shepherd-style).
  bool deadline_batching = false;
  // CoDel (Facebook's server variant): while the queue has not been empty for codel_interval_ns,
  // requests that waited longer than codel_target_ns are dropped, else those that waited longer than
  // codel_interval_ns. 0 = off.
  int64_t codel_target_ns = 0;
  int64_t codel_interval_ns = 0;
  // Serve newest-first within a priority level while CoDel sees congestion.
  bool adaptive_lifo = false;

  bool any() const { return drop_late || deadline_batching || codel_target_ns > 0; }
};

struct AdmissionQuery {
  uint32_t batch_size = 1;
  uint32_t priority_level = 1;   // resolved level, 1 = highest
  uint32_t priority_levels = 1;
  int64_t now_ns = 0;
  int64_t deadline_ns = 0;       // effective deadline (sooner of timeout and SLO), absolute; 0 = none
  int64_t in_flight = 0;         // the model's admitted, unfinished requests (before this one)
};

struct AdmissionDecision {
  ShedReason shed = ShedReason::kNone;
  // Instance to use instead of the placement's choice (to reach one that makes the deadline); -1 = keep.
  int32_t instance = -1;
};

class AdmissionPolicy {
 public:
  virtual ~AdmissionPolicy() = default;
  virtual const char* name() const = 0;
  // Called after placement chose `chosen` among the n candidates.
  virtual AdmissionDecision Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen) = 0;
  // An admitted request finished (any outcome): its latency from arrival, and whether it succeeded.
  virtual void OnFinish(int64_t latency_ns, bool ok) { (void)latency_ns; (void)ok; }
  virtual QueueDiscipline discipline() const { return QueueDiscipline(); }
  // The current in-flight limit for the highest priority (adaptive_concurrency); 0 when not limited.
  virtual double limit() const { return 0; }
};

// Parameters an admission policy may read (config parameters / Runtime options); 0 = the default.
struct AdmissionOptions {
  int64_t codel_target_ns = 0;     // default 5 ms
  int64_t codel_interval_ns = 0;   // default 100 ms
  uint32_t initial_limit = 0;      // adaptive_concurrency: default 2 x instances x max(1, max_batch)
  uint32_t instances = 1;
  uint32_t max_batch_size = 0;
};

// Lower priority levels are held to a tighter budget, so they are shed first: level p of L keeps
// (1 - kPriorityReserve * (p - 1) / (L - 1)) of the time to its deadline (level 1 keeps all of it).
constexpr double kPriorityReserve = 0.25;
double PriorityShare(uint32_t level, uint32_t levels);

}  // namespace serval

namespace serval {

// Names accepted by CreateAdmissionPolicy, from the policy registry (policy_registry.h).
std::vector<std::string> AdmissionPolicyNames();
// Creates an admission policy by name; kInvalidArgument for an unknown name.
Status CreateAdmissionPolicy(const std::string& name, const AdmissionOptions& options,
                             std::unique_ptr<AdmissionPolicy>* out);

}  // namespace serval
