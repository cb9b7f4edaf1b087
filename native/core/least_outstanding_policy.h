// LeastOutstandingPolicy: join-the-shortest-queue on outstanding samples (queued + in flight).
// Ties rotate so that an idle pool spreads load instead of always picking instance 0.
#pragma once

#include <atomic>

#include "placement_policy.h"

namespace serval {

class LeastOutstandingPolicy final : public PlacementPolicy {
 public:
  const char* name() const override { return "least_outstanding"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  std::atomic<uint64_t> rotate_{0};
};

}  // namespace serval
