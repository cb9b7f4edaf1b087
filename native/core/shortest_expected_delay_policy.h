// ShortestExpectedDelayPolicy: picks the instance whose predicted completion time for this request is
// smallest, using each instance's measured batch-latency profile (so a slower instance gets a
// proportionally smaller share).
#pragma once

#include <atomic>

#include "placement_policy.h"

namespace serval {

class ShortestExpectedDelayPolicy final : public PlacementPolicy {
 public:
  const char* name() const override { return "shortest_expected_delay"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  std::atomic<uint64_t> rotate_{0};
};

}  // namespace serval
