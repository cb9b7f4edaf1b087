// AdaptiveConcurrencyPolicy ("adaptive_concurrency"): a gradient-style limit on the model's in-flight
// requests (admitted and not finished), after Netflix's Gradient2 and Envoy's adaptive_concurrency: the
// limit follows the ratio of a long-term to a short-term latency average, growing by sqrt(limit) while
// latency holds and shrinking (by at most half per update) when it rises. A request over the limit is
// shed at once (kConcurrency); level p of L priority levels may use PriorityShare(p, L) of the limit, so
// lower priorities are shed first. Not SLO-aware: it is the industrial anchor the SLO-aware policies
// are measured against.
//
// Threads: Admit() reads the limit (atomic); OnFinish() updates it under its own short lock.
#pragma once

#include <atomic>
#include <mutex>

#include "admission_policy.h"

namespace serval {

class AdaptiveConcurrencyPolicy final : public AdmissionPolicy {
 public:
  explicit AdaptiveConcurrencyPolicy(const AdmissionOptions& o);
  const char* name() const override { return "adaptive_concurrency"; }
  AdmissionDecision Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen) override;
  void OnFinish(int64_t latency_ns, bool ok) override;
  double limit() const override { return limit_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> limit_;
  std::atomic<int64_t> in_flight_hint_{0};  // the in-flight count at the last admission
  std::mutex mu_;
  double short_ns_ = 0;  // mu_
  double long_ns_ = 0;   // mu_
  double min_limit_;
  double max_limit_;
};

}  // namespace serval
