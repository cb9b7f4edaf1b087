// ModelWrap (JS: NativeModel): one loaded model version: its ModelScheduler and the JS entry points.
//   enqueue(...inputs) or enqueue(inputs[]) -> instance | {code, message}
//       The request's numbers are read from the runtime's header (runtime_core.h), written by the JS side
//       just before the call: slot, batchSize, priority, timeoutUs, outputMask (-1 = all), requestId
//       (0 = not cancellable), sloUs, then for each input its rank and dims. Typed-array inputs are copied
//       during the call. On success it returns the instance the request was placed on, and the request's
//       completion arrives through the runtime's completion callback under `slot`; a request refused at
//       once (queue full, shed, closed) returns {code, message} and never completes.
//   cancel(requestId, instance) -> boolean
//   shareToken() -> number   publishes the scheduler for HTTP threads (NativeFrontEnd.attach, front_end_wrap.h)
//                            and opens it to them; unshare() closes it (their enqueues are refused CLOSED)
//   executorToken(instance) -> number       (handed to the instance's executor thread)
//   failInflight(instance, message)         (the executor died mid-batch)
//   noteRestart(instance)
//   close(drain: boolean), drained() -> boolean
//   stats() -> object (incl. policyFallbacks)
//   load() -> {pending, inFlight}   the two numbers of stats() a per-response load report needs, cheaply
//   seedProfile(instance, batchSizes[], seconds[])  (seeds the instance's latency profile)
// Created only by NativeRuntime.createModel(desc).
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "core/model_scheduler.h"
#include "core/policy_registry.h"
#include "runtime_core.h"
#include "shared_models.h"

namespace serval::binding {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  ~ModelWrap() override;

  // Builds the scheduler from `desc`; throws into JS on a malformed description.
  void Attach(Napi::Env env, std::shared_ptr<RuntimeCore> core, Napi::Object desc);

 private:
  Napi::Value Enqueue(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value ShareToken(const Napi::CallbackInfo& info);
  Napi::Value Unshare(const Napi::CallbackInfo& info);
  Napi::Value ExecutorToken(const Napi::CallbackInfo& info);
  Napi::Value FailInflight(const Napi::CallbackInfo& info);
  Napi::Value NoteRestart(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Drained(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value SeedProfile(const Napi::CallbackInfo& info);

  // Declared before sched_ so it is destroyed after it: the scheduler points into the core.
  std::shared_ptr<RuntimeCore> core_;
  std::shared_ptr<const ModelSpec> spec_;
  std::unique_ptr<ModelScheduler> sched_;
  std::vector<uint64_t> tokens_;
  std::vector<size_t> offsets_;  // Enqueue's scratch (JS thread only)
  // Published for other environments on the first shareToken() call (shared_models.h).
  std::shared_ptr<SharedModel> shared_;
  uint64_t share_token_ = 0;
};

}  // namespace serval::binding
