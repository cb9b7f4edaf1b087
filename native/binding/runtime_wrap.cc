#include "runtime_wrap.h"

#include "addon_data.h"
#include "model_wrap.h"

namespace serval::binding {

Napi::Function RuntimeWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeRuntime",
                     {InstanceMethod<&RuntimeWrap::CreateModel>("createModel"),
                      InstanceMethod<&RuntimeWrap::Shutdown>("shutdown"),
                      InstanceMethod<&RuntimeWrap::Outstanding>("outstanding")});
}

RuntimeWrap::RuntimeWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuntimeWrap>(info) {
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "NativeRuntime(makeError: function)").ThrowAsJavaScriptException();
    return;
  }
  core_ = std::make_shared<RuntimeCore>(info.Env(), info[0].As<Napi::Function>());
}

Napi::Value RuntimeWrap::CreateModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!core_) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "createModel(desc: object)").ThrowAsJavaScriptException();
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

namespace serval::binding {

Napi::Value RuntimeWrap::Outstanding(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), core_ ? double(core_->dispatcher.outstanding()) : 0);
}

}  // namespace serval::binding
