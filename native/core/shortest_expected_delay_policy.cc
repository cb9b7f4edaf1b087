#include "shortest_expected_delay_policy.h"

namespace serval {

uint32_t ShortestExpectedDelayPolicy::Choose(const PlacementQuery& q, const InstanceLoad* c, uint32_t n) {
  return ArgminFromRotation(rotate_, n, [&](uint32_t i) { return PredictCompletionNs(c[i], q.batch_size); });
}

}  // namespace serval
