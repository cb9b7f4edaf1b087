// Tensor descriptions shared by requests, batches and the model spec.
#pragma once

#include <cstddef>
#include <cstdint>
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

// One output slice owned by a request once its batch completes.
struct OutputData {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;  // BYTES tensors in the 4-byte-length-prefixed layout
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
