// QueueGate: the queue side of admission control, applied by an instance each time it forms a batch.
// One gate per batch formation, shared verbatim by the live DynamicBatcher and the simulator (native/sim),
// so both drop, cap and dispatch the same way.
//
// Use, at batch formation with the instance idle (nothing in flight):
//   QueueGate gate(discipline, config, profile, state, now, queued_samples);
//   for each queued request in scheduling order: gate.Check(r) -> drop it (reason) or keep it;
//   if gate.lifo(): plan the batch newest-first;
//   while offering kept requests to the BatchPlanner: stop when !gate.Fits(r);
//   if the plan waits: gate.DispatchEarly(plan.wake_at_ns) -> send now instead.
// `state` is the instance's own (CoDel's last-empty time); the caller holds the instance's lock.
// Not thread-safe, allocation-free.
#pragma once

#include <cstdint>

#include "admission_policy.h"
#include "batching_config.h"
#include "latency_profile.h"

namespace serval {

struct QueueGateState {
  int64_t last_empty_ns = 0;  // last time the queue was seen empty (0: not yet seen)
};

// What the gate needs of a queued request.
struct GateRequest {
  int64_t enqueue_ns = 0;
  int64_t deadline_ns = 0;  // effective deadline, 0 = none
  uint32_t samples = 1;
};

class QueueGate {
 public:
  // `queued_samples`: every sample queued on the instance now (0: the queue is empty). `turnaround_ns`:
  // the executor's measured time between back-to-back batches, paid by every batch after the first.
  QueueGate(const QueueDiscipline& d, const BatchingConfig& c, const LatencyProfile& profile, QueueGateState& state,
            int64_t now_ns, uint64_t queued_samples, int64_t turnaround_ns = 0);

  // Whether anything is to be done at all (none of the discipline's rules is on).
  bool active() const { return d_.any(); }
  // CoDel sees a standing queue: it has not been empty for codel_interval_ns.
  bool congested() const { return congested_; }
  // Plan newest-first (adaptive LIFO while congested).
  bool lifo() const { return d_.adaptive_lifo && congested_; }
  int64_t now() const { return now_; }

  // Visits a queued request in scheduling order: kNone keeps it (counted as ahead of later ones). Its
  // predicted finish: the kept requests ahead run first in full batches, and its own batch holds as many
  // samples as the queue can put in it (a standing queue fills batches; a short one does not).
  ShedReason Check(const GateRequest& r);

  // Batch control: whether `r` may join a forming batch that already has `samples` samples and whose
  // earliest deadline so far is *min_deadline_ns (updated when it joins). The first request always fits.
  // Only a short queue (fewer samples than a full batch) is capped: with a standing queue, Check() has
  // already dropped whoever cannot make a full batch, and shrinking batches would cost throughput
  // exactly when capacity is scarce.
  bool Fits(const GateRequest& r, uint32_t samples, int64_t* min_deadline_ns) const;

  // The forming batch of `samples` samples would wait until wake_at_ns: whether to send it now because
  // waiting would make its earliest-deadline request late.
  bool DispatchEarly(int64_t wake_at_ns, uint32_t samples, int64_t min_deadline_ns) const;

  // Call after taking a batch when the queue is left empty.
  static void NoteEmpty(QueueGateState& state, int64_t now_ns) { state.last_empty_ns = now_ns; }

 private:
  const QueueDiscipline& d_;
  const LatencyProfile& profile_;
  const uint32_t max_b_;
  const int64_t now_;
  const uint64_t queued_;
  const int64_t turnaround_;
  bool congested_ = false;
  uint32_t kept_samples_ = 0;
};

}  // namespace serval
