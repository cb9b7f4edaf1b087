// ModelStats: per-model-version counters and histograms (Triton's statistics, in seconds).
//
// Threads: updated from executor, timer and caller threads with relaxed atomics; read by snapshots.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "admission_policy.h"
#include "histogram.h"
#include "status.h"

namespace serval {

constexpr size_t kStatusCodeCount = static_cast<size_t>(StatusCode::kInternal) + 1;

struct ModelStats {
  explicit ModelStats(uint32_t max_batch_size)
      : queue_seconds(Histogram::LatencyBoundsSeconds()),
        compute_seconds(Histogram::LatencyBoundsSeconds()),
        request_seconds(Histogram::LatencyBoundsSeconds()),
        batch_size(Histogram::BatchSizeBounds(max_batch_size)) {}

  void CountFailure(StatusCode code) {
    failures[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  void CountShed(ShedReason reason) { shed[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed); }

  std::atomic<uint64_t> success{0};
  std::array<std::atomic<uint64_t>, kStatusCodeCount> failures{};
  std::atomic<uint64_t> inference_count{0};
  std::atomic<uint64_t> execution_count{0};
  // Shed requests by reason (each is also a SHED failure).
  std::array<std::atomic<uint64_t>, kShedReasonCount> shed{};
  // Admitted requests not yet finished (queued or running), across the model's instances.
  std::atomic<int64_t> in_flight{0};
  // |predicted - actual| / actual latency of admitted requests that ran, summed (error of the predictor
  // admission reads), with the count of requests it covers.
  std::atomic<double> prediction_error_sum{0};
  std::atomic<uint64_t> prediction_error_count{0};
  Histogram queue_seconds;
  Histogram compute_seconds;
  Histogram request_seconds;
  Histogram batch_size;
};

}  // namespace serval
