#include "placement_policy.h"

#include <algorithm>

namespace serval {

double PredictCompletionNs(const InstanceLoad& load, uint32_t batch_size) {
  const uint32_t max_b = load.max_batch_size ? load.max_batch_size : 1;
  uint32_t samples = load.queued_samples + batch_size;
  uint32_t full = samples / max_b;
  uint32_t rest = samples % max_b;
  double t = static_cast<double>(load.busy_remaining_ns);
  if (full) t += full * load.profile->PredictNs(max_b);
  if (rest) t += load.profile->PredictNs(rest);
  return t;
}

FinishEstimate PredictFinish(const InstanceLoad& load, uint32_t batch_size, int64_t now_ns) {
  const uint32_t max_b = load.max_batch_size ? load.max_batch_size : 1;
  const uint32_t b = std::clamp<uint32_t>(batch_size, 1, max_b);
  const uint32_t queued = load.queued_samples;
  uint32_t full_ahead = queued / max_b;
  const uint32_t rest = queued % max_b;
  FinishEstimate e;
  double t = static_cast<double>(load.busy_remaining_ns);
  if (full_ahead) t += full_ahead * load.profile->PredictNs(max_b);
  bool next_batch = full_ahead == 0;
  if (rest + b <= max_b) {
    e.batch_samples = rest + b;
  } else {
    // The partial batch ahead cannot take this request: it goes alone, then this request's batch.
    t += load.profile->PredictNs(rest);
    e.batch_samples = b;
    next_batch = false;
  }
  if (next_batch && load.max_queue_delay_ns > 0 && e.batch_samples < load.dispatch_samples) {
    const int64_t oldest = queued && load.oldest_enqueue_ns ? load.oldest_enqueue_ns : now_ns;
    t = std::max(t, static_cast<double>(oldest + load.max_queue_delay_ns - now_ns));
  }
  // Every batch that starts after another (the in-flight one, or one ahead in the queue) waits for the
  // executor's turnaround first.
  const uint32_t batches_ahead = full_ahead + (rest + b <= max_b ? 0 : 1);
  const uint32_t turnarounds = batches_ahead + (load.inflight_samples > 0 ? 1 : 0);
  t += double(turnarounds) * double(load.turnaround_ns);
  e.joins_forming = next_batch && queued > 0 && load.inflight_samples == 0;
  e.start_ns = t;
  e.service_ns = load.profile->PredictNs(e.batch_samples);
  return e;
}

}  // namespace serval
