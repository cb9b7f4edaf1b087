// ExecutionStream and StreamPool: the execution resources an instance runs on.
//
// On CPU an execution stream is a worker slot: one dedicated executor thread (hosted by the binding)
// and page-aligned host staging memory for its batches. When serval is built with CUDA
// (SERVAL_WITH_CUDA) a GPU stream also owns a cudaStream_t and its staging memory is pinned
// (cudaHostAlloc) so host-to-device copies can be asynchronous.
//
// Threads: StreamPool is thread-safe. An ExecutionStream is used by one executor at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "status.h"

namespace serval {

enum class StreamKind : uint8_t { kCpu = 0, kGpu = 1 };

class ExecutionStream {
 public:
  ~ExecutionStream();
  ExecutionStream(const ExecutionStream&) = delete;
  ExecutionStream& operator=(const ExecutionStream&) = delete;

  StreamKind kind() const { return kind_; }
  int device() const { return device_; }
  // The cudaStream_t (as void*) for GPU streams; nullptr on CPU.
  void* cuda_stream() const { return cuda_stream_; }

  // Staging memory for batch inputs: 64-byte aligned host memory, pinned for GPU streams.
  void* AllocateStaging(size_t bytes);
  void FreeStaging(void* ptr);

 private:
  friend class StreamPool;
  ExecutionStream(StreamKind kind, int device) : kind_(kind), device_(device) {}

  StreamKind kind_;
  int device_;
  void* cuda_stream_ = nullptr;
};

class StreamPool {
 public:
  StreamPool() = default;
  ~StreamPool();

  // Whether this build has CUDA support compiled in.
  static bool CudaCompiled();
  // Number of CUDA devices visible at run time (0 without CUDA, a driver or a GPU).
  static int CudaDeviceCount();

  // Hands out a stream of `kind` on `device`: a recycled one when available, else a new one.
  // Fails with kModelUnavailable for GPU streams when CUDA is absent.
  Status Acquire(StreamKind kind, int device, std::shared_ptr<ExecutionStream>* out);
  // Returns a stream for reuse (its CUDA stream stays alive for the next instance).
  void Release(std::shared_ptr<ExecutionStream> stream);

  size_t created() const;
  size_t idle() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ExecutionStream>> idle_;
  size_t created_ = 0;
};

}  // namespace serval
