// BatchPlanner: Triton's batch-forming rule as a pure function of what is queued, shared by the
// DynamicBatcher (live) and the simulator (native/sim), so both form the same batches.
//
// Use: offer the queued requests in scheduling order until Offer() returns false or the queue ends,
// then Finish() says how many to take, whether to send now, and otherwise when to look again.
// The rule (Triton's): take requests while they have the same non-batch shape and fit in
// max_batch_size. Send at once when the batch cannot grow (full, or the next request does not fit or
// has another shape), when max_queue_delay is 0, or when it reaches the largest preferred size;
// otherwise send the largest preferred size reached, if any; otherwise wait until the oldest request
// has waited max_queue_delay, then send what is there. A model that does not batch
// (max_batch_size 0) sends one request at a time.
//
// Not thread-safe; cheap to construct (holds a reference to the config, which must outlive it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "batching_config.h"

namespace serval {

struct BatchPlan {
  size_t count = 0;        // requests to take from the front
  uint32_t samples = 0;
  bool ready = false;
  int64_t wake_at_ns = 0;  // when !ready and count > 0: when the delay expires
};

class BatchPlanner {
 public:
  // `config.preferred_batch_sizes` must be sorted ascending.
  explicit BatchPlanner(const BatchingConfig& config) : c_(config) {}

  // Offers the next queued request (`samples` rows; `same_shape`: its non-batch shape matches the
  // first request's). Returns false once the batch is closed; later offers are ignored.
  bool Offer(uint32_t samples, bool same_shape);

  // The plan, given when the first (oldest) offered request was enqueued. Empty when nothing was offered.
  BatchPlan Finish(int64_t first_enqueue_ns, int64_t now_ns) const;
  // Samples offered and accepted so far.
  uint32_t samples() const { return samples_; }

  // Smallest number of samples at which a forming batch is sent without waiting for the delay: the
  // smallest preferred size, else max_batch_size (1 for a model that does not batch).
  static uint32_t DispatchSamples(const BatchingConfig& config);

 private:
  const BatchingConfig& c_;
  size_t count_ = 0;
  uint32_t samples_ = 0;
  size_t best_pref_count_ = 0;
  uint32_t best_pref_samples_ = 0;
  bool cannot_grow_ = false;
  bool closed_ = false;
};

}  // namespace serval
