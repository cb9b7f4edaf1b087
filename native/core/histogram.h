// Histogram: fixed-bucket, lock-free (relaxed atomics) histogram used for latency and batch-size stats.
//
// Threads: Record() may be called from any thread concurrently; Snapshot() may run concurrently with
// Record() and returns counts that are each individually consistent (the sum and the bucket counts may
// differ by the records in flight, which is fine for monitoring).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace serval {

struct HistogramSnapshot {
  std::vector<double> bounds;     // upper bounds; the last bucket (+Inf) has no bound entry
  std::vector<uint64_t> counts;   // bounds.size() + 1 entries, non-cumulative
  double sum = 0;
  uint64_t count = 0;
};

class Histogram {
 public:
  // `bounds` must be ascending. Values are recorded in the same unit as the bounds.
  explicit Histogram(std::vector<double> bounds);

  // Latency buckets in seconds from 10 µs to 10 s (a 1-2.5-5 series).
  static std::vector<double> LatencyBoundsSeconds();
  // Batch-size buckets 1, 2, 4, ... up to and including max_batch_size.
  static std::vector<double> BatchSizeBounds(uint32_t max_batch_size);

  void Record(double value);
  HistogramSnapshot Snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  // Sum kept in fixed point (1e-9 units) so it can be a lock-free integer add.
  std::atomic<uint64_t> sum_nano_{0};
};

}  // namespace serval
