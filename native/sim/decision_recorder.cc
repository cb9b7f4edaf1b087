#include "decision_recorder.h"

namespace serval::sim {

void DecisionDataset::Append(const DecisionDataset& o) {
  const uint32_t base = offsets.back();
  features.insert(features.end(), o.features.begin(), o.features.end());
  for (size_t d = 1; d < o.offsets.size(); ++d) offsets.push_back(base + o.offsets[d]);
  labels.insert(labels.end(), o.labels.begin(), o.labels.end());
}

uint32_t DecisionRecorder::Choose(const PlacementQuery& q, const InstanceLoad* c, uint32_t n) {
  signals_.NoteArrival(q.now_ns);
  if (n < 2 || n > kPolicyMaxCandidates) return acting_->Choose(q, c, n);
  PolicyDecisionInputs in;
  ExtractPolicyFeatures(q, c, n, signals_, &in);
  const uint32_t label = teacher_->Choose(q, c, n);
  const uint32_t chosen = acting_ == teacher_ ? label : acting_->Choose(q, c, n);
  out_->features.insert(out_->features.end(), in.features, in.features + size_t(n) * kPolicyInputs);
  out_->offsets.push_back(out_->offsets.back() + n);
  out_->labels.push_back(uint8_t(label));
  return chosen;
}

}  // namespace serval::sim
