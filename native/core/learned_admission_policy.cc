#include "learned_admission_policy.h"

#include <algorithm>
#include <cmath>

#include "deadline_admission_policy.h"
#include "placement_policy.h"

namespace serval {

namespace {
constexpr float kCap = 8.0f;
float Capped(double x) { return float(std::clamp(x, 0.0, double(kCap))); }

const AdmissionWeights kBundled = {
#include "learned_admission_weights.inc"
};
}  // namespace

const AdmissionWeights& BundledAdmissionWeights() { return kBundled; }

void AdmissionFeatures(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen,
                       const PolicySignals& signals, float* out) {
  const double budget = double(std::max<int64_t>(1, q.deadline_ns - q.now_ns));
  double best = 0, late = 0, util = 0, capacity = 0, queued = 0, slots = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const double f = PredictFinish(loads[i], q.batch_size, q.now_ns).finish_ns();
    if (i == 0 || f < best) best = f;
    late += f > budget;
    util += UtilisationAt(loads[i], q.now_ns);
    const uint32_t b = std::max<uint32_t>(1, loads[i].max_batch_size);
    const double lb = loads[i].profile->PredictNs(b);
    if (lb > 0) capacity += b * 1e9 / lb;
    queued += loads[i].outstanding();
    slots += b;
  }
  const double chosen_finish = PredictFinish(loads[chosen], q.batch_size, q.now_ns).finish_ns();
  const double long_rate = signals.long_rate();
  out[0] = 1.0f;
  out[1] = Capped(best / budget);
  out[2] = Capped(chosen_finish / budget);
  out[3] = long_rate > 0 ? Capped(signals.short_rate() / long_rate) : 1.0f;
  out[4] = capacity > 0 ? Capped(signals.short_rate() / capacity) : 0.0f;
  out[5] = float(util / n);
  out[6] = float(late / n);
  out[7] = float(PriorityShare(q.priority_level, q.priority_levels));
  out[8] = slots > 0 ? Capped(queued / slots) : 0.0f;
}

namespace {
double Score(const AdmissionWeights& w, const float* f) {
  double z = 0;
  for (uint32_t k = 0; k < kAdmissionFeatures; ++k) z += double(w[k]) * double(f[k]);
  return z;
}
double ThetaOf(double z) { return std::isfinite(z) ? std::min(1.0, 1.0 + kThetaRange * std::tanh(z)) : 1.0; }
}  // namespace

double AdmissionTheta(const AdmissionWeights& w, const float* f) { return ThetaOf(Score(w, f)); }

AdmissionDecision LearnedAdmissionPolicy::Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n,
                                                uint32_t chosen) {
  signals_.NoteArrival(q.now_ns);
  AdmissionDecision d;
  if (q.deadline_ns <= 0) return d;
  float f[kAdmissionFeatures];
  AdmissionFeatures(q, loads, n, chosen, signals_, f);
  const double z = Score(weights_, f);
  if (!std::isfinite(z)) fallbacks_.fetch_add(1, std::memory_order_relaxed);
  const double budget = double(q.deadline_ns - q.now_ns) * PriorityShare(q.priority_level, q.priority_levels) * ThetaOf(z);
  return AdmitWithinBudget(q, loads, n, chosen, budget, ShedReason::kLearned);
}

QueueDiscipline LearnedAdmissionPolicy::discipline() const { return DeadlineAdmissionPolicy().discipline(); }

}  // namespace serval
