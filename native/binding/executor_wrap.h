// ExecutorWrap (JS: NativeExecutor): the executor thread's side of one instance. Lives in the worker
// thread's environment; finds its DynamicBatcher through the InstanceRegistry token.
//   new NativeExecutor(token)
//   next(waitMs) -> null (nothing yet) | false (closed and drained: exit) |
//                   { id, samples, inputs: [{ data: TypedArray | string[], dims }] }
//                   Typed-array inputs are views of the batch's staging buffer: no copy.
//   complete(id, outputs: [{ data, dims } | undefined]) -> undefined | {code, message}
//       (outputs that do not fit fail that batch's requests, and the refusal says why)
//   fail(id, message)
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "core/dynamic_batcher.h"

namespace serval::binding {

class ExecutorWrap : public Napi::ObjectWrap<ExecutorWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit ExecutorWrap(const Napi::CallbackInfo& info);
  ~ExecutorWrap() override;

 private:
  Napi::Value Next(const Napi::CallbackInfo& info);
  Napi::Value Complete(const Napi::CallbackInfo& info);
  Napi::Value Fail(const Napi::CallbackInfo& info);

  // The ArrayBuffer exposing a staging buffer, created once per buffer and cached.
  Napi::ArrayBuffer StagingArrayBuffer(Napi::Env env, size_t input, const std::shared_ptr<StagingBuffer>& buf);

  std::shared_ptr<DynamicBatcher> batcher_;
  uint64_t inflight_id_ = 0;
  std::vector<uint64_t> cached_ids_;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> cached_buffers_;
};

}  // namespace serval::binding
