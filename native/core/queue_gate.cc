#include "queue_gate.h"

#include <algorithm>

namespace serval {

QueueGate::QueueGate(const QueueDiscipline& d, const BatchingConfig& c, const LatencyProfile& profile,
                     QueueGateState& state, int64_t now_ns, uint64_t queued_samples, int64_t turnaround_ns)
    : d_(d),
      profile_(profile),
      max_b_(std::max<uint32_t>(1, c.max_batch_size)),
      now_(now_ns),
      queued_(queued_samples),
      turnaround_(std::max<int64_t>(0, turnaround_ns)) {
  if (queued_samples == 0 || state.last_empty_ns == 0) state.last_empty_ns = now_ns;
  congested_ = d.codel_target_ns > 0 && now_ns - state.last_empty_ns > d.codel_interval_ns;
}

ShedReason QueueGate::Check(const GateRequest& r) {
  if (d_.codel_target_ns > 0) {
    const int64_t limit = congested_ ? d_.codel_target_ns : d_.codel_interval_ns;
    if (now_ - r.enqueue_ns > limit) return ShedReason::kCodel;
  }
  if (d_.drop_late && r.deadline_ns > 0) {
    uint32_t full_ahead = kept_samples_ / max_b_;
    uint32_t in_batch = kept_samples_ % max_b_ + r.samples;
    if (in_batch > max_b_) {
      ++full_ahead;
      in_batch = r.samples;
    }
    const uint64_t behind = queued_ > uint64_t(full_ahead) * max_b_ ? queued_ - uint64_t(full_ahead) * max_b_ : 0;
    const uint32_t fill = uint32_t(std::clamp<uint64_t>(behind, in_batch, max_b_));
    const double finish =
        double(now_) + full_ahead * (profile_.PredictNs(max_b_) + double(turnaround_)) + profile_.PredictNs(fill);
    if (finish > double(r.deadline_ns)) return ShedReason::kLate;
  }
  kept_samples_ += r.samples;
  return ShedReason::kNone;
}

bool QueueGate::Fits(const GateRequest& r, uint32_t samples, int64_t* min_deadline_ns) const {
  int64_t deadline = *min_deadline_ns;
  if (r.deadline_ns > 0 && (deadline == 0 || r.deadline_ns < deadline)) deadline = r.deadline_ns;
  // A standing queue fills every batch: Check() already kept only the requests that make a full batch,
  // and a smaller batch would only waste capacity. A short queue's batch may be capped.
  if (samples > 0 && d_.deadline_batching && deadline > 0 && queued_ < max_b_ &&
      double(now_) + profile_.PredictNs(samples + r.samples) > double(deadline)) {
    return false;
  }
  *min_deadline_ns = deadline;
  return true;
}

bool QueueGate::DispatchEarly(int64_t wake_at_ns, uint32_t samples, int64_t min_deadline_ns) const {
  if (!d_.deadline_batching || min_deadline_ns == 0) return false;
  return double(wake_at_ns) + profile_.PredictNs(std::max<uint32_t>(1, samples)) > double(min_deadline_ns);
}

}  // namespace serval
