// The binding's side of an HTTP thread (serval serve --http-threads, src/server/http-threads.ts): a JS
// environment that serves requests into schedulers owned by another environment (the main thread's models).
//
//   new NativeFrontEnd(onComplete, header)   this environment's completion dispatcher and request header
//                                            (the same contract as NativeRuntime's: completion_dispatcher.h,
//                                            model_wrap.h)
//   frontEnd.attach(shareToken) -> NativeModelHandle | null
//                                            a model the owner published (NativeModel.shareToken); null when
//                                            the token names none (unloaded since)
//   handle.enqueue(...inputs) -> instance | {code, message}   as NativeModel.enqueue; {code: 'CLOSED'} once
//                                            the owner destroyed the model
//   handle.cancel(requestId, instance) -> boolean
//   frontEnd.shutdown()                      later completions are dropped
//
// Requests enqueued here complete to this environment's dispatcher, wherever the batch ran. The dispatcher
// outlives the environment when requests are still out (completion_dispatcher.h).
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "completion_dispatcher.h"
#include "runtime_core.h"
#include "shared_models.h"

namespace serval::binding {

// What a front end and its handles share; the last of them to go (on the JS thread) retires the dispatcher.
struct FrontEndCore {
  FrontEndCore(Napi::Env env, Napi::Function on_complete, Napi::Float64Array header)
      : header(env, header), dispatcher(new CompletionDispatcher(env, on_complete, true)) {}
  ~FrontEndCore() { dispatcher->Retire(); }
  RequestHeader header;
  CompletionDispatcher* dispatcher;  // self-deleting
};

class FrontEndWrap : public Napi::ObjectWrap<FrontEndWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit FrontEndWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  std::shared_ptr<FrontEndCore> core_;
};

class ModelHandleWrap : public Napi::ObjectWrap<ModelHandleWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit ModelHandleWrap(const Napi::CallbackInfo& info);
  void Bind(std::shared_ptr<FrontEndCore> core, std::shared_ptr<SharedModel> model);

 private:
  Napi::Value Enqueue(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  // Declared first so it is released last: the dispatcher outlives the model reference.
  std::shared_ptr<FrontEndCore> core_;
  std::shared_ptr<SharedModel> model_;
  std::vector<size_t> offsets_;
};

}  // namespace serval::binding
