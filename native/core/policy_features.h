// PolicyFeatures: what the learned placement policy sees of one decision. One row of kPolicyInputs
// raw features per candidate instance, normalised by the request's SLO so one network serves models
// of any speed; the last five columns are global (the same in every row).
//
//   0 predicted start delay / SLO        8 utilisation EWMA (decayed to now)
//   1 predicted service time / SLO       9 latency-profile error EWMA
//   2 slack: 1 - predicted finish / SLO  10 speed: fastest l(1) / this instance's l(1)
//   3 finish minus the best finish / SLO 11 candidates / kPolicyMaxCandidates      (global)
//   4 queued samples / max batch         12 offered load: long-term arrival rate / capacity (global)
//   5 in-flight samples / max batch      13 burst: short-term / long-term arrival rate (global)
//   6 fill of the forming batch it joins 14 fraction of candidates with negative slack (global)
//     / dispatch size (0 if none)        15 mean utilisation over the candidates (global)
//   7 samples of its batch / max batch
//
// The SLO is PlacementQuery::slo_ns when set, else the time to the request's deadline, else
// kDefaultSloScale x the fastest candidate's l(1).
//
// Threads: PolicySignals is updated by every decision with relaxed atomics (concurrent decisions may
// lose an update, which only blurs the rate estimates); ExtractPolicyFeatures is pure.
#pragma once

#include <atomic>
#include <cstdint>

#include "placement_policy.h"
#include "policy_network.h"

namespace serval {

constexpr uint32_t kPolicyMaxCandidates = 16;
constexpr double kDefaultSloScale = 10.0;

// Arrival-rate EWMAs of one model's requests (time constants 0.1 s and 5 s), in requests per second.
class PolicySignals {
 public:
  void NoteArrival(int64_t now_ns);
  double short_rate() const { return short_rate_.load(std::memory_order_relaxed); }
  double long_rate() const { return long_rate_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> short_rate_{0};
  std::atomic<double> long_rate_{0};
  std::atomic<int64_t> last_ns_{0};
};

struct PolicyDecisionInputs {
  float features[kPolicyMaxCandidates * kPolicyInputs];
  FinishEstimate estimates[kPolicyMaxCandidates];
  double slo_ns = 0;
};

// Fills `out` for n <= kPolicyMaxCandidates candidates.
void ExtractPolicyFeatures(const PlacementQuery& query, const InstanceLoad* candidates, uint32_t n,
                           const PolicySignals& signals, PolicyDecisionInputs* out);

}  // namespace serval
