#include "earliest_finish_time_policy.h"

namespace serval {

uint32_t EarliestFinishTimePolicy::Choose(const PlacementQuery& q, const InstanceLoad* c, uint32_t n) {
  return ArgminFromRotation(rotate_, n, [&](uint32_t i) { return PredictFinish(c[i], q.batch_size, q.now_ns).finish_ns(); });
}

}  // namespace serval
