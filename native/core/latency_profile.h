// LatencyProfile: an instance's measured batch-latency curve l(b), kept up to date online.
//
// Threads: Observe() is called by the one executor thread of the instance (single writer);
// PredictNs() may be called from any thread concurrently (placement on the JS thread). Values are
// relaxed atomics: a reader may see a slightly stale curve, never a torn value.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace serval {

class LatencyProfile {
 public:
  // `max_batch_size` >= 1. `prior_ns` is returned for every b until the first observation.
  LatencyProfile(uint32_t max_batch_size, double prior_ns = 1e6);

  uint32_t max_batch_size() const { return max_batch_size_; }

  // Records one execution of a batch of `batch_size` samples that took `ns`.
  void Observe(uint32_t batch_size, double ns);
  // Seeds the curve (e.g. from a profile file); same effect as an observation with full weight.
  void Seed(uint32_t batch_size, double ns);

  // Predicted execution time of a batch of `batch_size` samples, in ns.
  double PredictNs(uint32_t batch_size) const;
  // Relative EWMA of |actual - predicted| / predicted.
  double ErrorEwma() const { return error_ewma_.load(std::memory_order_relaxed); }
  uint64_t observations() const { return observations_.load(std::memory_order_relaxed); }

 private:
  void Refit();

  uint32_t max_batch_size_;
  std::unique_ptr<std::atomic<float>[]> ewma_;  // index b; 0 = not observed
  std::vector<double> writer_points_;            // writer-private copy for refits
  std::atomic<double> alpha_;                    // affine fit l(b) = alpha + beta * b
  std::atomic<double> beta_{0};
  std::atomic<double> error_ewma_{0};
  std::atomic<uint64_t> observations_{0};
};

}  // namespace serval
