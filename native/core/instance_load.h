// InstanceCounters: the live, lock-free state of one model instance that placement policies read and
// stats report. InstanceLoad: a plain snapshot of it taken for one placement decision.
//
// Threads: counters are written by the instance's DynamicBatcher (under its lock) and executor, and
// read without locks by placement and stats (relaxed atomics; decisions tolerate slightly stale loads).
#pragma once

#include <atomic>
#include <cstdint>

#include "latency_profile.h"

namespace serval {

struct InstanceCounters {
  std::atomic<uint32_t> queued_requests{0};
  std::atomic<uint32_t> queued_samples{0};
  std::atomic<uint32_t> inflight_samples{0};
  std::atomic<int64_t> inflight_start_ns{0};
  std::atomic<int64_t> inflight_predicted_ns{0};
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
  // Predicted time until the in-flight batch finishes (0 when idle).
  int64_t busy_remaining_ns = 0;
  // Batch-latency curve of this instance; never null.
  const LatencyProfile* profile = nullptr;

  uint32_t outstanding() const { return queued_samples + inflight_samples; }
};

}  // namespace serval
