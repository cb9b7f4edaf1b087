// BatchingConfig and QueuePolicy: Triton's dynamic_batching settings in the core's units (ns).
#pragma once

#include <cstdint>
#include <vector>

namespace serval {

struct QueuePolicy {
  bool delay_on_timeout = false;     // timeout_action DELAY (else REJECT)
  int64_t default_timeout_ns = 0;    // 0 = none
  bool allow_timeout_override = false;
  uint32_t max_queue_size = 0;       // 0 = unbounded; counted per model version and priority level
};

struct BatchingConfig {
  // Mirrors ModelSpec::max_batch_size; 0 = the model does not batch.
  uint32_t max_batch_size = 0;
  std::vector<uint32_t> preferred_batch_sizes;  // ascending, each <= max_batch_size
  int64_t max_queue_delay_ns = 0;
  uint32_t priority_levels = 1;                 // >= 1
  uint32_t default_priority_level = 1;          // 1..priority_levels
  std::vector<QueuePolicy> queue_policies;      // one per level (index level-1)
  // serval extension: how long an idle executor polls for work before sleeping (0 = sleep at once).
  int64_t idle_spin_ns = 0;
};

// The sooner of two absolute deadlines, where 0 means none.
inline int64_t SoonerDeadline(int64_t a, int64_t b) { return a == 0 ? b : b == 0 ? a : (a < b ? a : b); }

// A request's effective deadline (admission's budget): the sooner of its queue timeout and its latency
// objective, both relative to `now_ns` (0 = none); 0 when it has neither.
inline int64_t EffectiveDeadline(int64_t now_ns, int64_t timeout_ns, int64_t slo_ns) {
  return SoonerDeadline(timeout_ns > 0 ? now_ns + timeout_ns : 0, slo_ns > 0 ? now_ns + slo_ns : 0);
}

// The priority level a request with `requested` level (0 = default) is queued at.
inline uint32_t ResolvePriorityLevel(const BatchingConfig& c, uint32_t requested) {
  return requested == 0 || requested > c.priority_levels ? c.default_priority_level : requested;
}

// The queue timeout of a request at `level` that asked for `requested_ns` (0 = none): Triton's rule.
inline int64_t QueueTimeoutNs(const BatchingConfig& c, uint32_t level, int64_t requested_ns) {
  const QueuePolicy& p = c.queue_policies[level - 1];
  return requested_ns > 0 && (p.allow_timeout_override || p.default_timeout_ns == 0) ? requested_ns
                                                                                       : p.default_timeout_ns;
}

}  // namespace serval
