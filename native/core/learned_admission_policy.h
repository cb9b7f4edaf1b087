// LearnedAdmissionPolicy ("learned" admission): the learned policy's admission head. Deadline admission
// (deadline_admission_policy.h) admits a request when its predicted finish on the best instance is within
// its budget; this head learns how much of the budget to trust from the state serval sees at arrival:
// admit when best finish <= budget x theta, theta = min(1, 1 + kThetaRange x tanh(w . features)), so it
// can shed earlier than deadline admission (in a burst that will swamp the queue) but never admits what
// deadline admission would shed: live predictions are optimistic (the JavaScript side, wake-ups), and a
// head trained in simulation that gambled on near misses (theta > 1) lost 8-13% goodput under live
// overload. Features (AdmissionFeatures): bias, best and chosen predicted finish / budget, the burst ratio
// (0.1 s / 5 s arrival-rate EWMAs), offered load over capacity, mean utilisation, fraction of candidates
// predicted late, the request's priority share, queued samples over the instances' batch capacity.
// Guard rails: a request without a deadline is admitted; a non-finite feature or weight falls back to
// theta = 1 (deadline admission) and is counted in fallbacks(). Its queue discipline is deadline
// admission's (late drops, deadline caps of short queues, early dispatch).
//
// Weights: the vector trained by `serval train-policy` (learned_admission_weights.inc is the bundled one);
// kAdmissionFeatures floats. Threads: Admit() is thread-safe and allocation-free.
#pragma once

#include <array>
#include <atomic>

#include "admission_policy.h"
#include "policy_features.h"

namespace serval {

constexpr uint32_t kAdmissionFeatures = 9;
constexpr double kThetaRange = 0.5;
using AdmissionWeights = std::array<float, kAdmissionFeatures>;

// The weights compiled into this build.
const AdmissionWeights& BundledAdmissionWeights();

// The raw features of one arrival decision (exposed for tests and training).
void AdmissionFeatures(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen,
                       const PolicySignals& signals, float* out);
// theta for those features, in [1 - kThetaRange, 1] (1 when not finite).
double AdmissionTheta(const AdmissionWeights& w, const float* features);

class LearnedAdmissionPolicy final : public AdmissionPolicy {
 public:
  LearnedAdmissionPolicy() : LearnedAdmissionPolicy(BundledAdmissionWeights()) {}
  explicit LearnedAdmissionPolicy(const AdmissionWeights& weights) : weights_(weights) {}
  const char* name() const override { return "learned"; }
  AdmissionDecision Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen) override;
  QueueDiscipline discipline() const override;
  uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }

 private:
  AdmissionWeights weights_;
  PolicySignals signals_;
  std::atomic<uint64_t> fallbacks_{0};
};

}  // namespace serval
