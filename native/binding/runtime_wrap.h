// RuntimeWrap (JS: NativeRuntime): owns a RuntimeCore and creates models on it.
//   new NativeRuntime(onComplete, header)   (see completion_dispatcher.h and model_wrap.h)
//   createModel(desc) -> NativeModel
//   shutdown()         stop settling promises (after every model is closed)
#pragma once

#include <napi.h>

#include <memory>

#include "runtime_core.h"

namespace serval::binding {

class RuntimeWrap : public Napi::ObjectWrap<RuntimeWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit RuntimeWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value CreateModel(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);

  std::shared_ptr<RuntimeCore> core_;
};

}  // namespace serval::binding
