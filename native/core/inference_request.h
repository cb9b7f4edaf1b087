// InferenceRequest: one caller's request as it moves through placement, queue, batch and completion.
//
// Ownership: created by the binding (or a test) and held in a std::unique_ptr. DynamicBatcher::Enqueue
// takes ownership only on success. From then on exactly one of {the queue, a batch} owns it, and it is
// handed back through CompletionSink::Complete exactly once, with `status` and `outputs` set.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "status.h"
#include "tensor.h"

namespace serval {

struct InferenceRequest {
  uint64_t id = 0;
  std::vector<InputData> inputs;      // indexed like ModelSpec::inputs
  std::vector<uint8_t> owned_bytes;   // storage for inputs the creator had to copy (e.g. strings)
  uint32_t batch_size = 1;            // dim 0 of the inputs when the model batches, else 1
  uint32_t priority_level = 0;        // 0 = model default; 1 is the highest
  int64_t timeout_ns = 0;             // requested queue timeout; 0 = the model's default
  int64_t slo_ns = 0;                 // requested latency objective; 0 = the model's slo
  bool cancellable = false;           // registered for Cancel(id)
  uint64_t output_mask = ~0ull;       // bit i set: return ModelSpec::outputs[i]
  void* user_data = nullptr;          // opaque to the core (the binding's promise context)
  // Where this request completes; null: the scheduler's sink. Set when requests from several callers
  // (JS environments) share one scheduler; it must outlive the request.
  class CompletionSink* sink = nullptr;

  // Set by the scheduler.
  uint32_t instance = 0;
  int64_t enqueue_ns = 0;
  int64_t deadline_ns = 0;  // queue timeout (Triton's semantics), absolute; 0 = none
  // Effective deadline for admission: the sooner of the queue timeout and the SLO, absolute; 0 = none.
  int64_t budget_deadline_ns = 0;
  // Latency admission predicted at arrival (ns from arrival to finish); 0 = not predicted.
  int64_t predicted_ns = 0;
  int64_t start_ns = 0;     // batch start
  int64_t end_ns = 0;       // completion

  // Result.
  Status status;
  std::vector<OutputData> outputs;  // indexed like ModelSpec::outputs (empty entries for unrequested ones)

  // Intrusive queue links and deadline index: owned by RequestQueue, do not touch elsewhere.
  InferenceRequest* prev = nullptr;
  InferenceRequest* next = nullptr;
  uint32_t queue_level = 0;
  std::multimap<int64_t, InferenceRequest*>::iterator deadline_it;
  bool in_deadline_index = false;
  bool expired_delayed = false;  // timed out with timeout_action DELAY
};

using RequestPtr = std::unique_ptr<InferenceRequest>;

// Receives finished requests (success or failure). Called from executor threads, the deadline timer
// thread, or the caller's thread, never with a scheduler lock held. Implementations must be thread-safe.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  virtual void Complete(std::vector<RequestPtr> requests) = 0;
};

// Hands each finished request to its own sink (InferenceRequest::sink), or to `fallback` when it has none:
// one Complete call per distinct sink, in the requests' order within each.
void DeliverCompletions(CompletionSink* fallback, std::vector<RequestPtr> done);

}  // namespace serval
