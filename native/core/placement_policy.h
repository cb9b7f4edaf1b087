// PlacementPolicy: picks the instance that serves a request. Heuristics and the learned policy network
// implement this one interface, so they are interchangeable per model.
//
// Threads: Choose() may be called concurrently from several threads; implementations keep their
// mutable state in atomics. It must not allocate or block: the target is p50 < 200 ns, p99 < 1 us.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "instance_load.h"
#include "status.h"

namespace serval {

struct PlacementQuery {
  uint32_t batch_size = 1;  // samples in the request
  uint32_t priority = 1;
  int64_t now_ns = 0;
  int64_t deadline_ns = 0;  // 0 = none
  int64_t slo_ns = 0;       // the model's latency objective, 0 = not set (see policy_features.h)
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual const char* name() const = 0;
  // Returns an index into `candidates`; n >= 1.
  virtual uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) = 0;
  // Decisions this policy handed to its fallback rule (the learned policy's guard rails); 0 for the
  // heuristics, which have none.
  virtual uint64_t fallbacks() const { return 0; }
};

// Names accepted by CreatePlacementPolicy, from the policy registry (policy_registry.h).
const std::vector<std::string>& PlacementPolicyNames();

// Creates a policy by name from the registry (policy_registry.cc); kInvalidArgument for an unknown name.
Status CreatePlacementPolicy(const std::string& name, std::unique_ptr<PlacementPolicy>* out);

// Predicted time from now until a request of `batch_size` samples placed on `load` finishes, using the
// instance's latency profile: the in-flight batch's remaining time, then the queued samples and this
// request executed in batches of at most max_batch_size.
double PredictCompletionNs(const InstanceLoad& load, uint32_t batch_size);

// When a request of `batch_size` samples placed on `load` now would start and how long its batch
// would run, following the batcher's rules: the in-flight batch finishes, the queued samples go in
// full batches, and the request joins the last partial batch when it fits (it finishes with that
// batch). When its batch is the next one and stays below the dispatch size, it also waits for the
// oldest queued request's max_queue_delay (its own when the queue is empty).
struct FinishEstimate {
  double start_ns = 0;          // from now until the request's batch starts
  double service_ns = 0;        // predicted execution time of that batch
  uint32_t batch_samples = 0;   // samples in that batch, this request included
  bool joins_forming = false;   // the instance is idle and the request joins its forming batch
  double finish_ns() const { return start_ns + service_ns; }
};
FinishEstimate PredictFinish(const InstanceLoad& load, uint32_t batch_size, int64_t now_ns);

// The candidate with the smallest cost(i). The scan starts at a rotating index and keeps the first
// minimum it meets, so equal candidates (e.g. idle instances) share the load.
template <typename Cost>
uint32_t ArgminFromRotation(std::atomic<uint64_t>& rotate, uint32_t n, Cost cost) {
  const uint32_t start = static_cast<uint32_t>(rotate.fetch_add(1, std::memory_order_relaxed) % n);
  uint32_t best = start;
  double best_cost = cost(start);
  for (uint32_t k = 1; k < n; ++k) {
    uint32_t i = start + k;
    if (i >= n) i -= n;
    const double c = cost(i);
    if (c < best_cost) {
      best = i;
      best_cost = c;
    }
  }
  return best;
}

}  // namespace serval
