// RoundRobinPolicy: instance i, i+1, ... regardless of load (the baseline users get by default elsewhere).
#pragma once

#include <atomic>

#include "placement_policy.h"

namespace serval {

class RoundRobinPolicy final : public PlacementPolicy {
 public:
  const char* name() const override { return "round_robin"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  std::atomic<uint64_t> next_{0};
};

}  // namespace serval
