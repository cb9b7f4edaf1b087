#include "batch_planner.h"

#include <algorithm>

namespace serval {

bool BatchPlanner::Offer(uint32_t samples, bool same_shape) {
  if (closed_) return false;
  if (c_.max_batch_size == 0) {  // no batching: one request at a time
    count_ = 1;
    samples_ = 1;
    closed_ = true;
    return false;
  }
  if (!same_shape || samples_ + samples > c_.max_batch_size) {
    cannot_grow_ = closed_ = true;
    return false;
  }
  samples_ += samples;
  ++count_;
  if (std::binary_search(c_.preferred_batch_sizes.begin(), c_.preferred_batch_sizes.end(), samples_)) {
    best_pref_count_ = count_;
    best_pref_samples_ = samples_;
  }
  if (samples_ == c_.max_batch_size) {
    cannot_grow_ = closed_ = true;
    return false;
  }
  return true;
}

BatchPlan BatchPlanner::Finish(int64_t first_enqueue_ns, int64_t now_ns) const {
  BatchPlan p;
  if (count_ == 0) return p;
  p.count = count_;
  p.samples = samples_;
  if (c_.max_batch_size == 0) {
    p.ready = true;
    return p;
  }
  const uint32_t max_preferred =
      c_.preferred_batch_sizes.empty() ? c_.max_batch_size : c_.preferred_batch_sizes.back();
  if (cannot_grow_ || c_.max_queue_delay_ns == 0 || samples_ >= max_preferred) {
    p.ready = true;
    return p;
  }
  if (best_pref_count_ > 0) {
    p.count = best_pref_count_;
    p.samples = best_pref_samples_;
    p.ready = true;
    return p;
  }
  const int64_t due = first_enqueue_ns + c_.max_queue_delay_ns;
  if (now_ns >= due) {
    p.ready = true;
  } else {
    p.wake_at_ns = due;
  }
  return p;
}

uint32_t BatchPlanner::DispatchSamples(const BatchingConfig& config) {
  if (config.max_batch_size == 0) return 1;
  if (config.max_queue_delay_ns == 0) return 1;
  if (!config.preferred_batch_sizes.empty()) return config.preferred_batch_sizes.front();
  return config.max_batch_size;
}

}  // namespace serval
