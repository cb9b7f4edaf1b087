#include "round_robin_policy.h"

namespace serval {

uint32_t RoundRobinPolicy::Choose(const PlacementQuery&, const InstanceLoad*, uint32_t n) {
  return static_cast<uint32_t>(next_.fetch_add(1, std::memory_order_relaxed) % n);
}

}  // namespace serval
