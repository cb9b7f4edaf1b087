#include "power_of_two_policy.h"

namespace serval {

// splitmix64 over an atomic counter: thread-safe without a lock, and good enough for sampling.
uint64_t PowerOfTwoPolicy::NextRandom() {
  uint64_t z = state_.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint32_t PowerOfTwoPolicy::Choose(const PlacementQuery&, const InstanceLoad* c, uint32_t n) {
  if (n == 1) return 0;
  uint64_t r = NextRandom();
  uint32_t a = static_cast<uint32_t>((r & 0xffffffffu) % n);
  uint32_t b = static_cast<uint32_t>((r >> 32) % (n - 1));
  if (b >= a) ++b;  // distinct from a
  return c[b].outstanding() < c[a].outstanding() ? b : a;
}

}  // namespace serval
