// WeightedRoundRobinPolicy: load-oblivious like round robin, but each instance's share is proportional
// to its measured throughput, dispatch_samples / l(dispatch_samples) from its latency profile, so a
// 4x slower instance gets a quarter of the traffic. The weighted cycle is the golden-ratio sequence
// over the cumulative weights: deterministic, lock-free, and evenly interleaved.
#pragma once

#include <atomic>

#include "placement_policy.h"

namespace serval {

class WeightedRoundRobinPolicy final : public PlacementPolicy {
 public:
  const char* name() const override { return "weighted_round_robin"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  std::atomic<uint64_t> next_{0};
};

}  // namespace serval
