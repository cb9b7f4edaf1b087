// PlacementPolicy: picks the instance that serves a request. Heuristics and the learned policy network
// implement this one interface, so they are interchangeable per model.
//
// Threads: Choose() may be called concurrently from several threads; implementations keep their
// mutable state in atomics. It must not allocate or block: the target is p50 < 200 ns, p99 < 1 us.
#pragma once

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
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual const char* name() const = 0;
  // Returns an index into `candidates`; n >= 1.
  virtual uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) = 0;
};

// Names accepted by CreatePlacementPolicy (the built-in heuristics).
const std::vector<std::string>& PlacementPolicyNames();

// Creates a built-in policy by name; kInvalidArgument for an unknown name.
Status CreatePlacementPolicy(const std::string& name, std::unique_ptr<PlacementPolicy>* out);

// Predicted time from now until a request of `batch_size` samples placed on `load` finishes, using the
// instance's latency profile: the in-flight batch's remaining time, then the queued samples and this
// request executed in batches of at most max_batch_size.
double PredictCompletionNs(const InstanceLoad& load, uint32_t batch_size);

}  // namespace serval
