// The addon's only NODE_API_MODULE: registers the native classes and build information.
#include <napi.h>

#include "addon_data.h"
#include "core/execution_stream.h"
#include "core/policy_registry.h"
#include "executor_wrap.h"
#include "front_end_wrap.h"
#include "js_values.h"
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
  Napi::Array placement = Napi::Array::New(env), admission = Napi::Array::New(env), table = Napi::Array::New(env);
  uint32_t np = 0, na = 0, nt = 0;
  for (const PolicyEntry& e : PolicyRegistry()) {
    (e.kind == PolicyKind::kPlacement ? placement : admission).Set(e.kind == PolicyKind::kPlacement ? np++ : na++, e.name);
    Napi::Object row = Napi::Object::New(env);
    row.Set("kind", PolicyKindName(e.kind));
    row.Set("name", e.name);
    row.Set("description", e.description);
    row.Set("decisionCost", e.decision_cost);
    table.Set(nt++, row);
  }
  o.Set("policies", placement);
  o.Set("admissionPolicies", admission);
  o.Set("policyTable", table);
  // The status codes in the order of their numbers (completion records carry the number).
  Napi::Array codes = Napi::Array::New(env, kStatusCodeCount);
  for (size_t c = 0; c < kStatusCodeCount; ++c) codes.Set(uint32_t(c), StatusCodeName(static_cast<StatusCode>(c)));
  o.Set("statusCodes", codes);
  return o;
}

// validatePolicy(name, kind = 'placement') -> null, or {code, message} saying why the registry would
// refuse it (an unknown name, an unreadable or malformed "learned:FILE").
Napi::Value ValidatePolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString() || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined())) {
    ThrowInvalidArgument(env, "validatePolicy(name: string, kind?: 'placement' | 'admission')");
    return env.Undefined();
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  Status st;
  if (info.Length() > 1 && info[1].IsString() && info[1].As<Napi::String>().Utf8Value() == "admission") {
    std::unique_ptr<AdmissionPolicy> policy;
    st = CreateAdmissionPolicy(name, AdmissionOptions(), &policy);
  } else {
    std::unique_ptr<PlacementPolicy> policy;
    st = CreatePlacementPolicy(name, &policy);
  }
  if (st.ok()) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", StatusCodeName(st.code()));
  o.Set("message", st.message());
  return o;
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(ModelWrap::Init(env));
  data->handle_constructor = Napi::Persistent(ModelHandleWrap::Init(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeRuntime", RuntimeWrap::Init(env));
  exports.Set("NativeModel", data->model_constructor.Value());
  exports.Set("NativeExecutor", ExecutorWrap::Init(env));
  exports.Set("NativeFrontEnd", FrontEndWrap::Init(env));
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
