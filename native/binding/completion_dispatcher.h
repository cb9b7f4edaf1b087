// CompletionDispatcher: the CompletionSink of one JS Runtime. Requests finish on executor and timer
// threads; the dispatcher queues them and wakes the JS thread through ONE ThreadSafeFunction, which
// settles every finished request's promise in one pass (resolve with outputs, or reject with a
// ServalError built by the JS-provided factory).
//
// Threads: Complete() from any thread; Drain() runs on the JS thread; Shutdown() on the JS thread.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

#include "core/inference_request.h"
#include "core/tensor.h"

namespace serval::binding {

// Per-request JS state, stored in InferenceRequest::user_data. Created and destroyed on the JS thread.
struct JsRequestContext {
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> keepalive;               // borrowed input buffers
  std::shared_ptr<const ModelSpec> spec;         // output names for the result object
};

class CompletionDispatcher final : public CompletionSink {
 public:
  // `make_error(code, message)` returns the ServalError to reject with.
  CompletionDispatcher(Napi::Env env, Napi::Function make_error);
  ~CompletionDispatcher() override;

  void Complete(std::vector<RequestPtr> requests) override;
  // Releases the ThreadSafeFunction; later completions are dropped (their JS state freed on no thread).
  void Shutdown();
  // Settles a request on the JS thread right away (used when Enqueue fails synchronously).
  void SettleNow(Napi::Env env, InferenceRequest& req) { Settle(env, req); }

  // Requests handed to the core whose promise is not settled yet (JS thread only).
  void NoteAccepted() { ++outstanding_; }
  uint64_t outstanding() const { return outstanding_; }

 private:
  void Settle(Napi::Env env, InferenceRequest& req);
  void Drain(Napi::Env env);

  Napi::ThreadSafeFunction tsfn_;
  napi_ref make_error_ = nullptr;
  napi_env env_;
  std::mutex mu_;
  std::vector<RequestPtr> pending_;
  bool scheduled_ = false;
  bool shut_down_ = false;
  uint64_t outstanding_ = 0;  // JS thread only
};

}  // namespace serval::binding
