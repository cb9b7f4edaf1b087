#include "least_outstanding_policy.h"

namespace serval {

uint32_t LeastOutstandingPolicy::Choose(const PlacementQuery&, const InstanceLoad* c, uint32_t n) {
  uint32_t start = static_cast<uint32_t>(rotate_.fetch_add(1, std::memory_order_relaxed) % n);
  uint32_t best = start;
  uint32_t best_load = c[start].outstanding();
  for (uint32_t k = 1; k < n; ++k) {
    uint32_t i = start + k;
    if (i >= n) i -= n;
    uint32_t load = c[i].outstanding();
    if (load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

}  // namespace serval
