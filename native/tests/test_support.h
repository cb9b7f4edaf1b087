// Shared fixtures for the core tests: a collecting CompletionSink, request builders, a batcher factory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "clock.h"
#include "deadline_timer.h"
#include "dynamic_batcher.h"
#include "execution_stream.h"

namespace serval::testing {

class CollectingSink : public CompletionSink {
 public:
  void Complete(std::vector<RequestPtr> requests) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& r : requests) done_.push_back(std::move(r));
    }
    cv_.notify_all();
  }
  // Waits until at least n requests completed (or 5 s passed); returns the count.
  size_t WaitFor(size_t n, int timeout_ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done_.size() >= n; });
    return done_.size();
  }
  std::vector<RequestPtr> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(done_);
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RequestPtr> done_;
};

// A model with one FP32 input [-1, width] and one FP32 output [-1, 1].
inline ModelSpec FloatModel(uint32_t max_batch, int64_t width = 2) {
  ModelSpec s;
  s.name = "m";
  s.max_batch_size = max_batch;
  s.inputs.push_back({"x", DType::kFp32, {width}});
  s.outputs.push_back({"y", DType::kFp32, {1}});
  return s;
}

// A request of `batch` rows whose row r holds value id*100+r in every column. Owns its bytes.
inline RequestPtr FloatRequest(uint64_t id, uint32_t batch = 1, int64_t width = 2, uint32_t priority = 0) {
  auto r = std::make_unique<InferenceRequest>();
  r->id = id;
  r->batch_size = batch;
  r->priority_level = priority;
  r->owned_bytes.resize(batch * width * sizeof(float));
  float* f = reinterpret_cast<float*>(r->owned_bytes.data());
  for (uint32_t row = 0; row < batch; ++row)
    for (int64_t c = 0; c < width; ++c) f[row * width + c] = float(id * 100 + row);
  InputData in;
  in.data = r->owned_bytes.data();
  in.byte_size = r->owned_bytes.size();
  in.dims = {int64_t(batch), width};
  r->inputs.push_back(in);
  return r;
}

struct BatcherFixture {
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  std::shared_ptr<DynamicBatcher> batcher;

  explicit BatcherFixture(ModelSpec spec, BatchingConfig cfg) {
    std::shared_ptr<ExecutionStream> stream;
    pool.Acquire(StreamKind::kCpu, 0, &stream);
    DynamicBatcher::Deps d;
    cfg.max_batch_size = spec.max_batch_size;
    d.spec = std::make_shared<const ModelSpec>(std::move(spec));
    d.config = cfg;
    d.stream = stream;
    d.sink = &sink;
    d.timer = &timer;
    d.stats = std::make_shared<ModelStats>(cfg.max_batch_size);
    d.queue_counters = std::make_shared<ModelQueueCounters>(std::max<uint32_t>(1, cfg.priority_levels));
    DynamicBatcher::Create(std::move(d), &batcher);
  }
  ~BatcherFixture() {
    batcher->Close(false);
    batcher.reset();
  }

  Status Enqueue(RequestPtr r) { return batcher->Enqueue(r); }

  // Executes the batch like an identity-sum model: output row = first column of the input row.
  void Execute(const Batch* b) {
    const float* in = reinterpret_cast<const float*>(b->inputs[0].buffer->data());
    int64_t width = b->inputs[0].dims[1];
    std::vector<float> out(b->samples);
    for (uint32_t i = 0; i < b->samples; ++i) out[i] = in[i * width];
    OutputView v;
    v.dtype = DType::kFp32;
    v.dims = {int64_t(b->samples), 1};
    v.data = reinterpret_cast<const uint8_t*>(out.data());
    v.byte_size = out.size() * sizeof(float);
    batcher->CompleteBatch(b->id, {v});
  }
};

}  // namespace serval::testing
