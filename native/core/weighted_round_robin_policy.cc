#include "weighted_round_robin_policy.h"

#include <algorithm>

namespace serval {

namespace {
constexpr uint32_t kMaxWeighted = 64;
// 2^64 / golden ratio: k * kWeyl mod 2^64 is the golden-ratio (Weyl) sequence, exact in integers.
constexpr uint64_t kWeyl = 0x9E3779B97F4A7C15ull;
}  // namespace

uint32_t WeightedRoundRobinPolicy::Choose(const PlacementQuery&, const InstanceLoad* c, uint32_t n) {
  if (n == 1) return 0;
  n = std::min(n, kMaxWeighted);
  double cumulative[kMaxWeighted];
  double total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t b = std::clamp<uint32_t>(c[i].dispatch_samples, 1, c[i].max_batch_size ? c[i].max_batch_size : 1);
    const double ns = c[i].profile->PredictNs(b);
    total += ns > 0 ? b / ns : 0;
    cumulative[i] = total;
  }
  const uint64_t k = next_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!(total > 0)) return static_cast<uint32_t>(k % n);
  const double x = double((k * kWeyl) >> 11) * 0x1.0p-53 * total;
  for (uint32_t i = 0; i < n; ++i) {
    if (x < cumulative[i]) return i;
  }
  return n - 1;
}

}  // namespace serval
