// EarliestFinishTimePolicy: picks the instance where this request is predicted to finish first
// (PredictFinish: in-flight remainder, queued batches, the forming batch it can join and that batch's
// max_queue_delay wait), using each instance's measured latency profile. Unlike shortest-expected-delay
// it knows that a request joining a forming batch finishes with that batch, and that a new batch on
// an idle instance waits for max_queue_delay unless it reaches a preferred size.
#pragma once

#include <atomic>

#include "placement_policy.h"

namespace serval {

class EarliestFinishTimePolicy final : public PlacementPolicy {
 public:
  const char* name() const override { return "earliest_finish_time"; }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;

 private:
  std::atomic<uint64_t> rotate_{0};
};

}  // namespace serval
