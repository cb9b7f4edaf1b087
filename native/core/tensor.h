// Tensor descriptions shared by requests, batches and the model spec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"

namespace serval {

// A model input or output as the model declares it.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kInvalid;
  // Without the batch dimension when the model batches; -1 marks a variable dimension.
  std::vector<int64_t> dims;
};

// What the scheduler needs to know about a model version.
struct ModelSpec {
  std::string name;
  int64_t version = 1;
  // 0: the model does not batch; each request is executed alone with its full shape.
  uint32_t max_batch_size = 0;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

// One request input: borrowed bytes (kept alive by whoever created the request until it completes).
struct InputData {
  const uint8_t* data = nullptr;
  size_t byte_size = 0;
  // Full shape, including the batch dimension when the model batches.
  std::vector<int64_t> dims;
};

// The large outputs of one executed batch, copied once out of the executor's memory
// (DynamicBatcher::SplitOutputs): each returned output of kOutputArenaMinBytes or more, back to back, each
// starting at a multiple of 8 bytes. Immutable once
// built; shared by the batch's requests (OutputData) and by whatever hands their bytes on (the binding makes
// JS ArrayBuffers over it without copying). Freed when the last holder lets go, on whichever thread that is.
struct OutputArena {
  explicit OutputArena(size_t n) : data(n ? new uint8_t[n] : nullptr), size(n) {}  // uninitialised bytes
  std::unique_ptr<uint8_t[]> data;
  size_t size;
};

// Batch outputs of at least this many bytes go to the batch's OutputArena; smaller ones are copied into
// each request's own `bytes` (pooled capacity, no allocation), where an arena would cost more than it saves
// (README "Not supported yet"; the binding's CompletionDispatcher::kShareMinBytes is the same figure).
constexpr size_t kOutputArenaMinBytes = 32 * 1024;

// One request's output once its batch completes: a slice of the batch's arena (a request holds its batch's
// whole arena alive, not just its slice), or, for a small output, bytes of its own.
struct OutputData {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> dims;
  std::shared_ptr<const OutputArena> arena;  // null: the bytes are in `bytes`
  size_t offset = 0;                         // into arena->data; a multiple of the element size
  size_t byte_size = 0;                      // BYTES tensors in the 4-byte-length-prefixed layout
  std::vector<uint8_t> bytes;                // without an arena: the slice itself

  const uint8_t* data() const { return arena ? arena->data.get() + offset : bytes.data(); }
};

// An output as the executor hands it back for a whole batch (borrowed for the duration of the call).
struct OutputView {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;
  size_t byte_size = 0;
};

inline int64_t ElementCount(const std::vector<int64_t>& dims, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < dims.size(); ++i) n *= dims[i];
  return n;
}

}  // namespace serval
