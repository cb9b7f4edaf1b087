// Batch and StagingBuffer: a formed batch and the contiguous host memory its inputs are copied into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "execution_stream.h"
#include "inference_request.h"

namespace serval {

// Contiguous staging memory for one model input of one instance. Reused batch after batch; replaced by
// a larger one (new id) when a batch does not fit. Shared with the executor (the binding exposes it as
// an ArrayBuffer without copying), hence shared_ptr: it lives until the last holder lets go.
class StagingBuffer {
 public:
  StagingBuffer(std::shared_ptr<ExecutionStream> stream, size_t capacity, uint64_t id);
  ~StagingBuffer();
  StagingBuffer(const StagingBuffer&) = delete;
  StagingBuffer& operator=(const StagingBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  uint64_t id() const { return id_; }

 private:
  std::shared_ptr<ExecutionStream> stream_;
  uint8_t* data_;
  size_t capacity_;
  uint64_t id_;
};

struct BatchInput {
  std::shared_ptr<StagingBuffer> buffer;
  size_t byte_size = 0;
  std::vector<int64_t> dims;  // [samples, ...] when batching, else the request's dims
};

// Owned by the DynamicBatcher from formation to completion; the executor reads it through a const
// pointer between NextBatch() and CompleteBatch()/FailBatch().
struct Batch {
  uint64_t id = 0;
  uint32_t samples = 0;
  uint64_t output_mask = 0;  // union of the requests' output masks
  int64_t start_ns = 0;
  std::vector<RequestPtr> requests;
  std::vector<BatchInput> inputs;
};

}  // namespace serval
