// PowerOfTwoPolicy: sample two distinct instances at random, keep the one with fewer outstanding
// samples (Ray Serve's default router, without its probing round trip).
#pragma once

#include <atomic>
#include <cstdint>

#include "placement_policy.h"

namespace serval {

class PowerOfTwoPolicy final : public PlacementPolicy {
 public:
  explicit PowerOfTwoPolicy(uint64_t seed = 0x9E3779B97F4A7C15ull) : state_(seed) {}
  const char* name() const override { return "power_of_two"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  uint64_t NextRandom();
  std::atomic<uint64_t> state_;
};

}  // namespace serval
