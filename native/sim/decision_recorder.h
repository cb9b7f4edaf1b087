// DecisionRecorder: a PlacementPolicy that acts through one policy and records, for every decision
// with 2..kPolicyMaxCandidates candidates, the learned policy's features and another policy's
// (the teacher's) choice: the data behaviour cloning learns from. With acting == teacher it records
// the teacher's own trajectory; with acting = the learned policy it records DAgger-style corrections.
//
// Single-threaded (the simulator's thread). Holds its own PolicySignals, updated exactly as the
// learned policy's, so the recorded features are the ones the learned policy would have seen.
#pragma once

#include <cstdint>
#include <vector>

#include "placement_policy.h"
#include "policy_features.h"

namespace serval::sim {

struct DecisionDataset {
  std::vector<float> features;    // kPolicyInputs floats per candidate row
  std::vector<uint32_t> offsets{0};  // decision d's rows are [offsets[d], offsets[d+1])
  std::vector<uint8_t> labels;    // the teacher's choice, per decision
  size_t decisions() const { return labels.size(); }
  size_t rows() const { return offsets.back(); }
  void Append(const DecisionDataset& other);
};

class DecisionRecorder final : public PlacementPolicy {
 public:
  // Neither policy is owned; both outlive the recorder. They may be the same object.
  DecisionRecorder(PlacementPolicy* acting, PlacementPolicy* teacher, DecisionDataset* out)
      : acting_(acting), teacher_(teacher), out_(out) {}

  const char* name() const override { return acting_->name(); }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;
  uint64_t fallbacks() const override { return acting_->fallbacks(); }

 private:
  PlacementPolicy* acting_;
  PlacementPolicy* teacher_;
  DecisionDataset* out_;
  PolicySignals signals_;
};

}  // namespace serval::sim
