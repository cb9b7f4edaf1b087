#include "policy_features.h"

#include <algorithm>
#include <cmath>

namespace serval {

namespace {
constexpr double kShortTauNs = 1e8;
constexpr double kLongTauNs = 5e9;
constexpr double kMaxBurst = 16.0;
constexpr double kMaxLoad = 8.0;

void Decay(std::atomic<double>& rate, double dt_ns, double tau_ns) {
  // Exponentially weighted count of arrivals / tau: the rate, in requests per second.
  const double r = rate.load(std::memory_order_relaxed);
  rate.store(r * std::exp(-dt_ns / tau_ns) + 1e9 / tau_ns, std::memory_order_relaxed);
}
}  // namespace

void PolicySignals::NoteArrival(int64_t now_ns) {
  const int64_t last = last_ns_.exchange(now_ns, std::memory_order_relaxed);
  const double dt = last == 0 ? 0.0 : double(std::max<int64_t>(0, now_ns - last));
  Decay(short_rate_, dt, kShortTauNs);
  Decay(long_rate_, dt, kLongTauNs);
}

void ExtractPolicyFeatures(const PlacementQuery& q, const InstanceLoad* c, uint32_t n, const PolicySignals& signals,
                           PolicyDecisionInputs* out) {
  double fastest_l1 = 0;
  double capacity = 0;  // samples per second over the candidates, at their dispatch sizes
  for (uint32_t i = 0; i < n; ++i) {
    const double l1 = c[i].profile->PredictNs(1);
    if (i == 0 || l1 < fastest_l1) fastest_l1 = l1;
    const uint32_t b = std::clamp<uint32_t>(c[i].dispatch_samples, 1, std::max<uint32_t>(1, c[i].max_batch_size));
    const double lb = c[i].profile->PredictNs(b);
    if (lb > 0) capacity += b * 1e9 / lb;
  }
  double slo = double(q.slo_ns);
  if (!(slo > 0) && q.deadline_ns > q.now_ns) slo = double(q.deadline_ns - q.now_ns);
  if (!(slo > 0)) slo = kDefaultSloScale * fastest_l1;
  if (!(slo > 0)) slo = 1e6;
  out->slo_ns = slo;
  const double inv_slo = 1.0 / slo;

  double best_finish = 0;
  uint32_t late = 0;
  double utilisation_sum = 0;
  for (uint32_t i = 0; i < n; ++i) {
    out->estimates[i] = PredictFinish(c[i], q.batch_size, q.now_ns);
    const double f = out->estimates[i].finish_ns();
    if (i == 0 || f < best_finish) best_finish = f;
    if (f > slo) ++late;
  }
  float* row = out->features;
  float util[kPolicyMaxCandidates];
  for (uint32_t i = 0; i < n; ++i) {
    util[i] = static_cast<float>(UtilisationAt(c[i], q.now_ns));
    utilisation_sum += util[i];
  }
  const float load = static_cast<float>(capacity > 0 ? std::min(kMaxLoad, signals.long_rate() / capacity) : 0.0);
  const double long_rate = signals.long_rate();
  const float burst = static_cast<float>(long_rate > 0 ? std::min(kMaxBurst, signals.short_rate() / long_rate) : 1.0);
  for (uint32_t i = 0; i < n; ++i, row += kPolicyInputs) {
    const FinishEstimate& e = out->estimates[i];
    const double max_b = std::max<uint32_t>(1, c[i].max_batch_size);
    const double l1 = c[i].profile->PredictNs(1);
    row[0] = static_cast<float>(e.start_ns * inv_slo);
    row[1] = static_cast<float>(e.service_ns * inv_slo);
    row[2] = static_cast<float>(1.0 - e.finish_ns() * inv_slo);
    row[3] = static_cast<float>((e.finish_ns() - best_finish) * inv_slo);
    row[4] = static_cast<float>(c[i].queued_samples / max_b);
    row[5] = static_cast<float>(c[i].inflight_samples / max_b);
    row[6] = e.joins_forming ? static_cast<float>(double(e.batch_samples) / std::max<uint32_t>(1, c[i].dispatch_samples))
                             : 0.f;
    row[7] = static_cast<float>(e.batch_samples / max_b);
    row[8] = util[i];
    row[9] = static_cast<float>(c[i].profile->ErrorEwma());
    row[10] = static_cast<float>(l1 > 0 ? fastest_l1 / l1 : 1.0);
    row[11] = static_cast<float>(double(n) / kPolicyMaxCandidates);
    row[12] = load;
    row[13] = burst;
    row[14] = static_cast<float>(double(late) / n);
    row[15] = static_cast<float>(utilisation_sum / n);
  }
}

}  // namespace serval
