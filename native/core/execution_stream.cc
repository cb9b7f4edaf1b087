#include "execution_stream.h"

#include <cstdlib>

#ifdef SERVAL_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace serval {

namespace {
constexpr size_t kAlign = 64;
size_t RoundUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

ExecutionStream::~ExecutionStream() {
#ifdef SERVAL_WITH_CUDA
  if (cuda_stream_) cudaStreamDestroy(static_cast<cudaStream_t>(cuda_stream_));
#endif
}

void* ExecutionStream::AllocateStaging(size_t bytes) {
  size_t n = RoundUp(bytes ? bytes : 1);
#ifdef SERVAL_WITH_CUDA
  if (kind_ == StreamKind::kGpu) {
    void* p = nullptr;
    if (cudaHostAlloc(&p, n, cudaHostAllocPortable) == cudaSuccess) return p;
    return nullptr;
  }
#endif
  return std::aligned_alloc(kAlign, n);
}

void ExecutionStream::FreeStaging(void* ptr) {
  if (!ptr) return;
#ifdef SERVAL_WITH_CUDA
  if (kind_ == StreamKind::kGpu) {
    cudaFreeHost(ptr);
    return;
  }
#endif
  std::free(ptr);
}

StreamPool::~StreamPool() = default;

bool StreamPool::CudaCompiled() {
#ifdef SERVAL_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int StreamPool::CudaDeviceCount() {
#ifdef SERVAL_WITH_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
#else
  return 0;
#endif
}

Status StreamPool::Acquire(StreamKind kind, int device, std::shared_ptr<ExecutionStream>* out) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < idle_.size(); ++i) {
      if (idle_[i]->kind() == kind && idle_[i]->device() == device) {
        *out = std::move(idle_[i]);
        idle_.erase(idle_.begin() + static_cast<ptrdiff_t>(i));
        return Status::Ok();
      }
    }
  }
  std::shared_ptr<ExecutionStream> stream(new ExecutionStream(kind, device));
  if (kind == StreamKind::kGpu) {
#ifdef SERVAL_WITH_CUDA
    if (device < 0 || device >= CudaDeviceCount()) {
      return Status(StatusCode::kModelUnavailable,
                    "GPU instance requested on device " + std::to_string(device) + " but " +
                        std::to_string(CudaDeviceCount()) + " CUDA device(s) are visible");
    }
    cudaStream_t s = nullptr;
    if (cudaSetDevice(device) != cudaSuccess ||
        cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess) {
      return Status(StatusCode::kModelUnavailable, "cudaStreamCreate failed on device " + std::to_string(device));
    }
    stream->cuda_stream_ = s;
#else
    return Status(StatusCode::kModelUnavailable,
                  "GPU instance requested but serval was built without CUDA (SERVAL_CUDA=off or no toolkit)");
#endif
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++created_;
  *out = std::move(stream);
  return Status::Ok();
}

void StreamPool::Release(std::shared_ptr<ExecutionStream> stream) {
  if (!stream) return;
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(stream));
}

size_t StreamPool::created() const {
  std::lock_guard<std::mutex> lock(mu_);
  return created_;
}

size_t StreamPool::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

}  // namespace serval
