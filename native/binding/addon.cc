// The addon's only NODE_API_MODULE: registers the native classes and build information.
#include <napi.h>

#include "addon_data.h"
#include "core/execution_stream.h"
#include "core/placement_policy.h"
#include "executor_wrap.h"
#include "model_wrap.h"
#include "runtime_wrap.h"
#include "sim_wrap.h"

namespace serval::binding {

namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("cuda", Napi::Boolean::New(env, StreamPool::CudaCompiled()));
  o.Set("cudaDevices", Napi::Number::New(env, StreamPool::CudaDeviceCount()));
  Napi::Array names = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& n : PlacementPolicyNames()) names.Set(i++, n);
  o.Set("policies", names);
  return o;
}

// validatePolicy(name) -> null, or {code, message} saying why CreatePlacementPolicy would refuse it
// (an unknown name, an unreadable or malformed "learned:FILE").
Napi::Value ValidatePolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "validatePolicy(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::unique_ptr<PlacementPolicy> policy;
  Status st = CreatePlacementPolicy(info[0].As<Napi::String>().Utf8Value(), &policy);
  if (st.ok()) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", StatusCodeName(st.code()));
  o.Set("message", st.message());
  return o;
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(ModelWrap::Init(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeRuntime", RuntimeWrap::Init(env));
  exports.Set("NativeModel", data->model_constructor.Value());
  exports.Set("NativeExecutor", ExecutorWrap::Init(env));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("validatePolicy", Napi::Function::New(env, ValidatePolicy));
  exports.Set("sim", SimExports(env));
  return exports;
}

}  // namespace

}  // namespace serval::binding

static Napi::Object InitServal(Napi::Env env, Napi::Object exports) {
  return serval::binding::InitAddon(env, exports);
}

NODE_API_MODULE(serval, InitServal)
