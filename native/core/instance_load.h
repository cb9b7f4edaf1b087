// InstanceCounters: the live, lock-free state of one model instance that placement policies read and
// stats report. InstanceLoad: a plain snapshot of it taken for one placement decision.
//
// Threads: counters are written by the instance's DynamicBatcher (under its lock) and executor, and
// read without locks by placement and stats (relaxed atomics; decisions tolerate slightly stale loads).
// The simulator (native/sim) keeps the same counters for its simulated instances, single-threaded.
#pragma once

#include <atomic>
#include <cstdint>

#include "batching_config.h"
#include "latency_profile.h"

namespace serval {

struct InstanceCounters {
  std::atomic<uint32_t> queued_requests{0};
  std::atomic<uint32_t> queued_samples{0};
  std::atomic<uint32_t> inflight_samples{0};
  std::atomic<int64_t> inflight_start_ns{0};
  std::atomic<int64_t> inflight_predicted_ns{0};
  // Enqueue time of the request at the front of the queue (the one a forming batch waits for); 0 when empty.
  std::atomic<int64_t> oldest_enqueue_ns{0};
  // The executor's turnaround: an EWMA of the time from one batch's completion to the next batch's start
  // while requests were waiting (worker hand-off, wake-up); every batch after the in-flight one pays it.
  std::atomic<int64_t> turnaround_ns{0};
  // Busy-time fraction, an EWMA over about a second, as of utilisation_at_ns (see RecordBusy).
  std::atomic<float> utilisation{0.f};
  std::atomic<int64_t> utilisation_at_ns{0};
  std::atomic<uint64_t> placements{0};
  std::atomic<uint64_t> executions{0};
  std::atomic<uint64_t> busy_ns{0};
  std::atomic<uint64_t> restarts{0};
};

struct InstanceLoad {
  uint32_t index = 0;
  uint32_t queued_requests = 0;
  uint32_t queued_samples = 0;
  uint32_t inflight_samples = 0;
  uint32_t max_batch_size = 1;
  // A forming batch of this many samples is sent without waiting for max_queue_delay.
  uint32_t dispatch_samples = 1;
  int64_t max_queue_delay_ns = 0;
  // Predicted time until the in-flight batch finishes (0 when idle).
  int64_t busy_remaining_ns = 0;
  // Enqueue time of the front request (0 when the queue is empty).
  int64_t oldest_enqueue_ns = 0;
  // The executor's measured turnaround between back-to-back batches (InstanceCounters::turnaround_ns).
  int64_t turnaround_ns = 0;
  float utilisation = 0.f;
  int64_t utilisation_at_ns = 0;
  // Batch-latency curve of this instance; never null.
  const LatencyProfile* profile = nullptr;

  uint32_t outstanding() const { return queued_samples + inflight_samples; }
};

// The snapshot a placement decision reads. `config` is the instance's batching config.
InstanceLoad SnapshotLoad(const InstanceCounters& counters, const LatencyProfile& profile,
                          const BatchingConfig& config, uint32_t index, int64_t now_ns);

// Folds one batch execution [start_ns, end_ns) into the utilisation EWMA. Called by the instance's
// executor side after each batch (a single writer per instance).
void RecordBusy(InstanceCounters& counters, int64_t start_ns, int64_t end_ns);

// The utilisation EWMA decayed to `now_ns`: towards 1 while a batch runs, towards 0 while idle.
double UtilisationAt(const InstanceLoad& load, int64_t now_ns);

}  // namespace serval
