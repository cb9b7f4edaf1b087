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

// Output-name keys of one model, created once on the JS thread (property keys for result objects).
// Node 20 cannot reference strings directly, so the key strings live in a referenced JS array.
struct JsOutputKeys {
  JsOutputKeys(napi_env e) : env(e) {}
  ~JsOutputKeys() {
    if (names) napi_delete_reference(env, names);
  }
  napi_env env;
  std::shared_ptr<const ModelSpec> spec;
  napi_ref names = nullptr;  // Array of output names, indexed like spec->outputs
};

// Per-request JS state, stored in InferenceRequest::user_data. Created and destroyed on the JS thread.
struct JsRequestContext {
  napi_deferred deferred = nullptr;
  std::shared_ptr<const JsOutputKeys> keys;      // output names for the result object
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
  void SettleNow(Napi::Env env, InferenceRequest& req);

  // Requests handed to the core whose promise is not settled yet (JS thread only).
  void NoteAccepted() { ++outstanding_; }
  uint64_t outstanding() const { return outstanding_; }

 private:
  // `shared`/`base`/`offset`: one ArrayBuffer holding the fixed-width outputs of a whole drain pass
  // (each output is a view of its own slice), or null to allocate per output.
  void Settle(Napi::Env env, InferenceRequest& req, napi_value keys, napi_value shared = nullptr,
              uint8_t* base = nullptr, size_t* offset = nullptr);
  void Drain(Napi::Env env);
  // Key `which` of keys_ (see below); `keys` is keys_'s value for this pass.
  static napi_value Key(napi_env env, napi_value keys, uint32_t which);

  Napi::ThreadSafeFunction tsfn_;
  napi_ref make_error_ = nullptr;
  // Array: [0..2] = "type", "dims", "data"; [3 + code] = the DType's v2 name.
  napi_ref keys_ = nullptr;
  napi_env env_;
  std::mutex mu_;
  std::vector<RequestPtr> pending_;
  bool scheduled_ = false;
  bool shut_down_ = false;
  uint64_t outstanding_ = 0;  // JS thread only
};

}  // namespace serval::binding
