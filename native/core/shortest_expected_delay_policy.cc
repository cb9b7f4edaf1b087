#include "shortest_expected_delay_policy.h"

namespace serval {

uint32_t ShortestExpectedDelayPolicy::Choose(const PlacementQuery& q, const InstanceLoad* c, uint32_t n) {
  uint32_t start = static_cast<uint32_t>(rotate_.fetch_add(1, std::memory_order_relaxed) % n);
  uint32_t best = start;
  double best_t = PredictCompletionNs(c[start], q.batch_size);
  for (uint32_t k = 1; k < n; ++k) {
    uint32_t i = start + k;
    if (i >= n) i -= n;
    double t = PredictCompletionNs(c[i], q.batch_size);
    if (t < best_t) {
      best = i;
      best_t = t;
    }
  }
  return best;
}

}  // namespace serval
