// LearnedPolicy: the RL-trained placement policy. Extracts PolicyFeatures for every candidate, scores
// each with the PolicyNetwork (shared weights, so it takes any number of candidates up to 16), and
// picks the best score among the candidates predicted to finish within the request's budget (the
// deadline, or the model's SLO), or among all of them when no budget is known or none can meet it;
// the network decides where a request that cannot make it does least harm. Batching stays with the
// batcher.
//
// Guard rails: the decision goes to EarliestFinishTimePolicy instead, and fallbacks() counts it, when
// there are more than kPolicyMaxCandidates candidates, when a feature is not finite or lies outside
// the training envelope stored with the weights, or when a candidate's latency-profile error EWMA
// exceeds the weights' max_error_ewma (the profile no longer describes the instance).
//
// Names: "learned" runs the weights compiled into the addon (learned_policy_weights.inc);
// "learned:/path/policy.bin" loads a weights file. Threads: Choose() is thread-safe and allocation-free.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "earliest_finish_time_policy.h"
#include "placement_policy.h"
#include "policy_features.h"
#include "policy_network.h"

namespace serval {

constexpr const char* kLearnedFilePrefix = "learned:";

class LearnedPolicy final : public PlacementPolicy {
 public:
  LearnedPolicy(std::shared_ptr<const PolicyWeights> weights, std::string name);

  const char* name() const override { return name_.c_str(); }
  uint32_t Choose(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n) override;
  uint64_t fallbacks() const override { return fallbacks_.load(std::memory_order_relaxed); }

  const PolicyWeights& weights() const { return *weights_; }
  const PolicySignals& signals() const { return signals_; }

  // Which guard rail, if any, rejects these inputs (nullptr: none). Exposed for tests and the simulator.
  const char* GuardRail(const PolicyDecisionInputs& inputs, const InstanceLoad* candidates, uint32_t n) const;

 private:
  std::shared_ptr<const PolicyWeights> weights_;
  std::string name_;
  PolicySignals signals_;
  EarliestFinishTimePolicy fallback_;
  std::atomic<uint64_t> fallbacks_{0};
};

// The weights compiled into this build (learned_policy_weights.inc).
std::shared_ptr<const PolicyWeights> BundledPolicyWeights();

// "learned" or "learned:FILE" (kInvalidArgument with the reason when the file cannot be used).
Status CreateLearnedPolicy(const std::string& name, std::unique_ptr<PlacementPolicy>* out);

// Picks among scored candidates: the highest score among those predicted to finish within the budget
// (the sooner of the deadline and the SLO, when either is set, and some do), else the highest overall;
// the first on ties.
uint32_t ArgmaxFeasible(const PlacementQuery& query, const PolicyDecisionInputs& inputs, const float* scores,
                        uint32_t n);

}  // namespace serval
