#include "adaptive_concurrency_policy.h"

#include <algorithm>
#include <cmath>

namespace serval {

namespace {
constexpr double kShortWeight = 0.1;    // ~10 samples
constexpr double kLongWeight = 1.0 / 600;  // ~600 samples (Gradient2's default window)
constexpr double kTolerance = 1.5;      // latency may rise this much before the limit shrinks
constexpr double kSmoothing = 0.2;
constexpr double kMaxLimit = 65536;
}  // namespace

AdaptiveConcurrencyPolicy::AdaptiveConcurrencyPolicy(const AdmissionOptions& o)
    : limit_(o.initial_limit > 0 ? double(o.initial_limit)
                                 : 2.0 * std::max<uint32_t>(1, o.instances) * std::max<uint32_t>(1, o.max_batch_size)),
      min_limit_(std::max<uint32_t>(1, o.instances)),
      max_limit_(kMaxLimit) {}

AdmissionDecision AdaptiveConcurrencyPolicy::Admit(const AdmissionQuery& q, const InstanceLoad*, uint32_t, uint32_t) {
  AdmissionDecision d;
  in_flight_hint_.store(q.in_flight, std::memory_order_relaxed);
  const double allowed = limit_.load(std::memory_order_relaxed) * PriorityShare(q.priority_level, q.priority_levels);
  if (double(q.in_flight) >= std::max(1.0, std::floor(allowed))) d.shed = ShedReason::kConcurrency;
  return d;
}

void AdaptiveConcurrencyPolicy::OnFinish(int64_t latency_ns, bool ok) {
  if (!ok || latency_ns <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const double x = double(latency_ns);
  short_ns_ = short_ns_ > 0 ? short_ns_ + kShortWeight * (x - short_ns_) : x;
  long_ns_ = long_ns_ > 0 ? long_ns_ + kLongWeight * (x - long_ns_) : x;
  // After a long stretch of high latency the long average has drifted up with it; pull it back so the
  // limit can recover (Gradient2's drift correction).
  if (long_ns_ / short_ns_ > 2) long_ns_ *= 0.95;
  const double limit = limit_.load(std::memory_order_relaxed);
  const double gradient = std::clamp(kTolerance * long_ns_ / short_ns_, 0.5, 1.0);
  double next = limit * gradient + std::sqrt(limit);
  // Do not grow while the model is not using the limit (application-limited).
  if (next > limit && double(in_flight_hint_.load(std::memory_order_relaxed)) < limit / 2) next = limit;
  next = limit * (1 - kSmoothing) + next * kSmoothing;
  limit_.store(std::clamp(next, min_limit_, max_limit_), std::memory_order_relaxed);
}

}  // namespace serval
