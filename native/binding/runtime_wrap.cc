#include "runtime_wrap.h"

#include "addon_data.h"
#include "js_values.h"
#include "model_wrap.h"

namespace serval::binding {

Napi::Function RuntimeWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeRuntime",
                     {InstanceMethod<&RuntimeWrap::CreateModel>("createModel"),
                      InstanceMethod<&RuntimeWrap::Shutdown>("shutdown")});
}

bool CompletionArguments(const Napi::CallbackInfo& info, const char* ctor) {
  if (info.Length() >= 2 && info[0].IsFunction() && info[1].IsTypedArray() &&
      info[1].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array &&
      info[1].As<Napi::Float64Array>().ElementLength() >= 64) {
    return true;
  }
  ThrowInvalidArgument(info.Env(), std::string(ctor) + "(onComplete: function, header: Float64Array of at least 64 elements)");
  return false;
}

RuntimeWrap::RuntimeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuntimeWrap>(info) {
  if (!CompletionArguments(info, "NativeRuntime")) return;
  core_ = std::make_shared<RuntimeCore>(info.Env(), info[0].As<Napi::Function>(), info[1].As<Napi::Float64Array>());
}

Napi::Value RuntimeWrap::CreateModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowInvalidArgument(env, "createModel(desc: object)");
    return env.Undefined();
  }
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object model = data->model_constructor.New({info[0]});
  if (env.IsExceptionPending()) return env.Undefined();
  ModelWrap::Unwrap(model)->Attach(env, core_, info[0].As<Napi::Object>());
  if (env.IsExceptionPending()) return env.Undefined();
  return model;
}

Napi::Value RuntimeWrap::Shutdown(const Napi::CallbackInfo& info) {
  if (core_) core_->dispatcher.Shutdown();
  return info.Env().Undefined();
}

}  // namespace serval::binding
