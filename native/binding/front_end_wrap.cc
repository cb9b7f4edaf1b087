#include "front_end_wrap.h"

#include "addon_data.h"
#include "js_values.h"
#include "request_reader.h"

namespace serval::binding {

Napi::Function FrontEndWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeFrontEnd",
                     {InstanceMethod<&FrontEndWrap::Attach>("attach"), InstanceMethod<&FrontEndWrap::Shutdown>("shutdown")});
}

FrontEndWrap::FrontEndWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FrontEndWrap>(info) {
  if (!CompletionArguments(info, "NativeFrontEnd")) return;
  core_ = std::make_shared<FrontEndCore>(info.Env(), info[0].As<Napi::Function>(), info[1].As<Napi::Float64Array>());
}

Napi::Value FrontEndWrap::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowInvalidArgument(env, "attach(shareToken: number)");
    return env.Undefined();
  }
  const double token = info[0].As<Napi::Number>().DoubleValue();
  std::shared_ptr<SharedModel> model = token >= 1 ? FindSharedModel(uint64_t(token)) : nullptr;
  if (!core_ || !model) return env.Null();
  Napi::Object handle = env.GetInstanceData<AddonData>()->handle_constructor.New({});
  if (env.IsExceptionPending()) return env.Undefined();
  ModelHandleWrap::Unwrap(handle)->Bind(core_, std::move(model));
  return handle;
}

Napi::Value FrontEndWrap::Shutdown(const Napi::CallbackInfo& info) {
  if (core_) core_->dispatcher->Shutdown();
  return info.Env().Undefined();
}

Napi::Function ModelHandleWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeModelHandle",
                     {InstanceMethod<&ModelHandleWrap::Enqueue>("enqueue"), InstanceMethod<&ModelHandleWrap::Cancel>("cancel")});
}

ModelHandleWrap::ModelHandleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandleWrap>(info) {}

void ModelHandleWrap::Bind(std::shared_ptr<FrontEndCore> core, std::shared_ptr<SharedModel> model) {
  core_ = std::move(core);
  model_ = std::move(model);
  offsets_.resize(model_->spec().inputs.size());
}

Napi::Value ModelHandleWrap::Enqueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) {
    ThrowInvalidArgument(env, "enqueue: the handle is not attached (use NativeFrontEnd.attach)");
    return env.Undefined();
  }
  SharedModelUse use(*model_);
  if (!use) return Refusal(env, Status(StatusCode::kClosed, "model '" + model_->spec().name + "' was unloaded"));
  if (!model_->open()) return Refusal(env, Status(StatusCode::kClosed, "model '" + model_->spec().name + "' is served by its owner now"));
  return EnqueueFromJs(info, model_->spec(), *model_->scheduler(), core_->header, *core_->dispatcher, true, offsets_);
}

Napi::Value ModelHandleWrap::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_ || info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) return Napi::Boolean::New(env, false);
  SharedModelUse use(*model_);
  if (!use) return Napi::Boolean::New(env, false);
  const uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  return Napi::Boolean::New(env, model_->scheduler()->Cancel(info[1].As<Napi::Number>().Uint32Value(), id));
}

}  // namespace serval::binding
