#include "model_wrap.h"

#include <cmath>
#include <string>

#include "core/instance_registry.h"
#include "tensor_convert.h"

namespace serval::binding {

namespace {

uint32_t U32(Napi::Object o, const char* key, uint32_t fallback = 0) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

int64_t I64(Napi::Object o, const char* key, int64_t fallback = 0) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

bool ReadTensorSpecs(Napi::Env env, Napi::Value v, std::vector<TensorSpec>* out) {
  if (!v.IsArray()) {
    Napi::TypeError::New(env, "model inputs/outputs must be arrays").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Object t = a.Get(i).As<Napi::Object>();
    TensorSpec s;
    s.name = t.Get("name").As<Napi::String>().Utf8Value();
    int code = static_cast<int>(U32(t, "dtype"));
    if (!DTypeValid(code)) {
      Napi::TypeError::New(env, "tensor '" + s.name + "' has an invalid dtype code").ThrowAsJavaScriptException();
      return false;
    }
    s.dtype = static_cast<DType>(code);
    if (!ArrayToDims(env, t.Get("dims"), &s.dims)) return false;
    out->push_back(std::move(s));
  }
  return true;
}

// An integral number in [lo, hi], or a pending TypeError (code INVALID_ARGUMENT) naming `what`: the
// binding never truncates a request option silently (src/model/input-validation.ts checks them first).
bool ReadIntegral(Napi::Env env, Napi::Value v, double lo, double hi, const char* what, double* out) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
  if (!(d >= lo && d <= hi) || std::trunc(d) != d) {
    Napi::TypeError e = Napi::TypeError::New(env, std::string("enqueue: ") + what + " must be an integer in [" +
                                                      std::to_string(int64_t(lo)) + ", " + std::to_string(int64_t(hi)) + "]");
    e.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
    e.ThrowAsJavaScriptException();
    return false;
  }
  *out = d;
  return true;
}

Napi::Object HistogramToJs(Napi::Env env, const HistogramSnapshot& h) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array bounds = Napi::Array::New(env, h.bounds.size() + 1);
  Napi::Array counts = Napi::Array::New(env, h.counts.size());
  for (size_t i = 0; i < h.bounds.size(); ++i) bounds.Set(uint32_t(i), h.bounds[i]);
  bounds.Set(uint32_t(h.bounds.size()), Napi::Number::New(env, std::numeric_limits<double>::infinity()));
  for (size_t i = 0; i < h.counts.size(); ++i) counts.Set(uint32_t(i), double(h.counts[i]));
  o.Set("bounds", bounds);
  o.Set("counts", counts);
  o.Set("sum", h.sum);
  o.Set("count", double(h.count));
  return o;
}

}  // namespace

Napi::Function ModelWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {InstanceMethod<&ModelWrap::Enqueue>("enqueue"),
                      InstanceMethod<&ModelWrap::Cancel>("cancel"),
                      InstanceMethod<&ModelWrap::ExecutorToken>("executorToken"),
                      InstanceMethod<&ModelWrap::FailInflight>("failInflight"),
                      InstanceMethod<&ModelWrap::NoteRestart>("noteRestart"),
                      InstanceMethod<&ModelWrap::Close>("close"),
                      InstanceMethod<&ModelWrap::Drained>("drained"),
                      InstanceMethod<&ModelWrap::Stats>("stats"),
                      InstanceMethod<&ModelWrap::SetPolicy>("setPolicy"),
                      InstanceMethod<&ModelWrap::SeedProfile>("seedProfile"),
                      InstanceMethod<&ModelWrap::PolicyName>("policyName")});
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {}

ModelWrap::~ModelWrap() {
  for (uint64_t t : tokens_) InstanceRegistry::Unregister(t);
  if (sched_) sched_->Close(false);
}

void ModelWrap::Attach(Napi::Env env, std::shared_ptr<RuntimeCore> core, Napi::Object desc) {
  ModelScheduler::Options o;
  o.spec.name = desc.Get("name").ToString().Utf8Value();
  o.spec.version = I64(desc, "version", 1);
  o.spec.max_batch_size = U32(desc, "maxBatchSize");
  if (!ReadTensorSpecs(env, desc.Get("inputs"), &o.spec.inputs)) return;
  if (!ReadTensorSpecs(env, desc.Get("outputs"), &o.spec.outputs)) return;
  BatchingConfig& b = o.batching;
  if (desc.Get("preferredBatchSizes").IsArray()) {
    Napi::Array p = desc.Get("preferredBatchSizes").As<Napi::Array>();
    for (uint32_t i = 0; i < p.Length(); ++i) b.preferred_batch_sizes.push_back(p.Get(i).As<Napi::Number>().Uint32Value());
  }
  b.max_queue_delay_ns = I64(desc, "maxQueueDelayUs") * 1000;
  b.idle_spin_ns = I64(desc, "idleSpinUs") * 1000;
  b.priority_levels = std::max<uint32_t>(1, U32(desc, "priorityLevels", 1));
  b.default_priority_level = U32(desc, "defaultPriorityLevel", 1);
  if (desc.Get("queuePolicies").IsArray()) {
    Napi::Array qp = desc.Get("queuePolicies").As<Napi::Array>();
    for (uint32_t i = 0; i < qp.Length(); ++i) {
      Napi::Object q = qp.Get(i).As<Napi::Object>();
      QueuePolicy policy;
      policy.delay_on_timeout = q.Get("delayOnTimeout").ToBoolean();
      policy.default_timeout_ns = I64(q, "defaultTimeoutUs") * 1000;
      policy.allow_timeout_override = q.Get("allowTimeoutOverride").ToBoolean();
      policy.max_queue_size = U32(q, "maxQueueSize");
      b.queue_policies.push_back(policy);
    }
  }
  if (!desc.Get("instances").IsArray()) {
    Napi::TypeError::New(env, "model desc needs instances[]").ThrowAsJavaScriptException();
    return;
  }
  Napi::Array inst = desc.Get("instances").As<Napi::Array>();
  for (uint32_t i = 0; i < inst.Length(); ++i) {
    Napi::Object io = inst.Get(i).As<Napi::Object>();
    InstanceSpec s;
    s.kind = io.Get("kind").ToString().Utf8Value() == "GPU" ? StreamKind::kGpu : StreamKind::kCpu;
    s.device = static_cast<int>(I64(io, "device"));
    o.instances.push_back(s);
  }
  o.slo_ns = I64(desc, "sloUs") * 1000;
  std::unique_ptr<PlacementPolicy> policy;
  Status st = CreatePlacementPolicy(desc.Get("policy").ToString().Utf8Value(), &policy);
  const std::string admission_name = desc.Get("admission").IsString() ? desc.Get("admission").ToString().Utf8Value() : "none";
  if (st.ok() && admission_name != "none") {
    AdmissionOptions ao;
    ao.codel_target_ns = I64(desc, "codelTargetUs") * 1000;
    ao.codel_interval_ns = I64(desc, "codelIntervalUs") * 1000;
    ao.initial_limit = U32(desc, "concurrencyInitialLimit");
    ao.instances = static_cast<uint32_t>(o.instances.size());
    ao.max_batch_size = o.spec.max_batch_size;
    std::unique_ptr<AdmissionPolicy> admission;
    st = CreateAdmissionPolicy(admission_name, ao, &admission);
    o.admission = std::move(admission);
  }
  if (st.ok()) {
    o.policy = std::move(policy);
    o.sink = &core->dispatcher;
    o.timer = &core->timer;
    o.streams = &core->streams;
    st = ModelScheduler::Create(std::move(o), &sched_);
  }
  if (!st.ok()) {
    Napi::Error e = Napi::Error::New(env, st.message());
    e.Set("code", Napi::String::New(env, StatusCodeName(st.code())));
    e.ThrowAsJavaScriptException();
    return;
  }
  core_ = std::move(core);
  spec_ = std::make_shared<const ModelSpec>(sched_->spec());
  auto keys = std::make_shared<JsOutputKeys>(env);
  keys->spec = spec_;
  Napi::Array names = Napi::Array::New(env, spec_->outputs.size());
  for (size_t i = 0; i < spec_->outputs.size(); ++i) names.Set(uint32_t(i), spec_->outputs[i].name);
  napi_create_reference(env, names, 1, &keys->names);
  keys_ = std::move(keys);
  for (size_t i = 0; i < sched_->instance_count(); ++i) tokens_.push_back(InstanceRegistry::Register(sched_->instance(i)));
}

Napi::Value ModelWrap::Enqueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!sched_ || info.Length() < 7 || !info[0].IsArray() || !info[1].IsArray()) {
    Napi::TypeError::New(env, "enqueue(inputs[], dims[][], batchSize, priority, timeoutUs, outputMask, requestId, sloUs?)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array inputs = info[0].As<Napi::Array>();
  Napi::Array dims = info[1].As<Napi::Array>();
  const size_t n = spec_->inputs.size();
  // Deadlines are int64 nanoseconds: 2^53 ns bounds the timeout so the product stays exact and in range.
  constexpr double kMaxSafe = 9007199254740991.0;
  double batch_size = 0, priority = 0, timeout_us = 0, id = 0, slo_us = 0;
  if (!ReadIntegral(env, info[2], 0, 4294967295.0, "batchSize", &batch_size) ||
      !ReadIntegral(env, info[3], 0, 4294967295.0, "priority", &priority) ||
      !ReadIntegral(env, info[4], 0, std::floor(kMaxSafe / 1000), "timeoutUs", &timeout_us) ||
      !ReadIntegral(env, info[6], 0, kMaxSafe, "requestId", &id) ||
      (info.Length() > 7 && !info[7].IsUndefined() &&
       !ReadIntegral(env, info[7], 0, std::floor(kMaxSafe / 1000), "sloUs", &slo_us))) {
    return env.Undefined();
  }
  if (!info[5].IsNumber()) {
    Napi::TypeError::New(env, "enqueue: outputMask must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (inputs.Length() != n || dims.Length() != n) {
    Napi::TypeError::New(env, "enqueue: expected " + std::to_string(n) + " inputs").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto req = std::make_unique<InferenceRequest>();
  auto* ctx = new JsRequestContext();
  ctx->keys = keys_;
  req->inputs.resize(n);
  std::vector<size_t> owned_offsets(n, SIZE_MAX);
  bool ok = true;
  for (size_t i = 0; i < n && ok; ++i) {
    InputData& in = req->inputs[i];
    size_t offset = SIZE_MAX;
    ok = ReadTensorData(env, inputs.Get(uint32_t(i)), spec_->inputs[i].dtype, &in.data, &in.byte_size, &offset,
                        &req->owned_bytes) &&
         ArrayToDims(env, dims.Get(uint32_t(i)), &in.dims);
    owned_offsets[i] = offset;
  }
  if (ok) {
    for (size_t i = 0; i < n; ++i) {
      if (owned_offsets[i] != SIZE_MAX) req->inputs[i].data = req->owned_bytes.data() + owned_offsets[i];
      size_t elem = DTypeSize(spec_->inputs[i].dtype);
      bool negative = false;
      for (int64_t d : req->inputs[i].dims) negative = negative || d < 0;
      if (negative || (elem && static_cast<int64_t>(req->inputs[i].byte_size) != ElementCount(req->inputs[i].dims) * int64_t(elem))) {
        Napi::TypeError::New(env, "input '" + spec_->inputs[i].name + "' byte length does not match its dims")
            .ThrowAsJavaScriptException();
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    delete ctx;
    return env.Undefined();
  }
  req->batch_size = static_cast<uint32_t>(batch_size);
  req->priority_level = static_cast<uint32_t>(priority);
  req->timeout_ns = static_cast<int64_t>(timeout_us) * 1000;
  req->slo_ns = static_cast<int64_t>(slo_us) * 1000;
  double mask = info[5].As<Napi::Number>().DoubleValue();
  req->output_mask = mask < 0 || !(mask < 18446744073709551616.0) ? ~0ull : static_cast<uint64_t>(mask);
  req->id = static_cast<uint64_t>(id);
  req->cancellable = id != 0;
  napi_value promise;
  napi_create_promise(env, &ctx->deferred, &promise);
  req->user_data = ctx;
  core_->dispatcher.NoteAccepted();
  Status st = sched_->Enqueue(req);
  if (!st.ok()) {
    // Ownership stayed with us: settle right away (rejected promise, not a throw).
    req->status = st;
    core_->dispatcher.SettleNow(env, *req);
  }
  return Napi::Value(env, promise);
}

Napi::Value ModelWrap::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!sched_ || info.Length() < 1 || !info[0].IsNumber()) return Napi::Boolean::New(env, false);
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  for (size_t i = 0; i < sched_->instance_count(); ++i) {
    if (sched_->Cancel(static_cast<uint32_t>(i), id)) return Napi::Boolean::New(env, true);
  }
  return Napi::Boolean::New(env, false);
}

Napi::Value ModelWrap::ExecutorToken(const Napi::CallbackInfo& info) {
  uint32_t i = info[0].As<Napi::Number>().Uint32Value();
  if (i >= tokens_.size()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), double(tokens_[i]));
}

Napi::Value ModelWrap::FailInflight(const Napi::CallbackInfo& info) {
  uint32_t i = info[0].As<Napi::Number>().Uint32Value();
  std::string msg = info.Length() > 1 ? info[1].ToString().Utf8Value() : "executor failed";
  if (sched_ && i < sched_->instance_count()) sched_->instance(i)->FailInflight(0, Status(StatusCode::kExecutionFailed, msg));
  return info.Env().Undefined();
}

Napi::Value ModelWrap::NoteRestart(const Napi::CallbackInfo& info) {
  uint32_t i = info[0].As<Napi::Number>().Uint32Value();
  if (sched_ && i < sched_->instance_count()) sched_->instance(i)->mutable_counters().restarts.fetch_add(1);
  return info.Env().Undefined();
}

Napi::Value ModelWrap::Close(const Napi::CallbackInfo& info) {
  if (sched_) sched_->Close(info.Length() > 0 && info[0].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value ModelWrap::Drained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !sched_ || sched_->Drained());
}

Napi::Value ModelWrap::SetPolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<PlacementPolicy> p;
  Status st = CreatePlacementPolicy(info[0].ToString().Utf8Value(), &p);
  if (!st.ok()) {
    Napi::TypeError::New(env, st.message()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (sched_) sched_->SetPolicy(std::move(p));
  return env.Undefined();
}

Napi::Value ModelWrap::SeedProfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsArray() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "seedProfile(instance, batchSizes[], seconds[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint32_t i = info[0].As<Napi::Number>().Uint32Value();
  Napi::Array sizes = info[1].As<Napi::Array>(), seconds = info[2].As<Napi::Array>();
  if (!sched_ || i >= sched_->instance_count()) return Napi::Boolean::New(env, false);
  for (uint32_t k = 0; k < sizes.Length() && k < seconds.Length(); ++k) {
    Napi::Value b = sizes.Get(k), s = seconds.Get(k);
    if (!b.IsNumber() || !s.IsNumber()) continue;
    sched_->instance(i)->profile().Seed(b.As<Napi::Number>().Uint32Value(), s.As<Napi::Number>().DoubleValue() * 1e9);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value ModelWrap::PolicyName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), sched_ ? sched_->policy_name() : "");
}

Napi::Value ModelWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  if (!sched_) return o;
  ModelStats& st = sched_->stats();
  o.Set("success", double(st.success.load()));
  Napi::Object fail = Napi::Object::New(env);
  for (size_t c = 1; c < kStatusCodeCount; ++c) {
    uint64_t n = st.failures[c].load();
    if (n) fail.Set(StatusCodeName(static_cast<StatusCode>(c)), double(n));
  }
  o.Set("failure", fail);
  o.Set("inferenceCount", double(st.inference_count.load()));
  o.Set("executionCount", double(st.execution_count.load()));
  o.Set("pending", double(sched_->pending()));
  o.Set("policyFallbacks", double(sched_->policy_fallbacks()));
  o.Set("admission", sched_->admission_name());
  Napi::Object shed = Napi::Object::New(env);
  for (size_t k = 1; k < kShedReasonCount; ++k) {
    const uint64_t n = st.shed[k].load();
    if (n) shed.Set(ShedReasonName(static_cast<ShedReason>(k)), double(n));
  }
  o.Set("shed", shed);
  o.Set("inFlight", double(std::max<int64_t>(0, st.in_flight.load())));
  o.Set("admissionLimit", sched_->admission() ? sched_->admission()->limit() : 0.0);
  const uint64_t predicted = st.prediction_error_count.load();
  o.Set("predictionErrorMean", predicted ? st.prediction_error_sum.load() / double(predicted) : 0.0);
  o.Set("predictionCount", double(predicted));
  o.Set("queueSeconds", HistogramToJs(env, st.queue_seconds.Snapshot()));
  o.Set("computeSeconds", HistogramToJs(env, st.compute_seconds.Snapshot()));
  o.Set("requestSeconds", HistogramToJs(env, st.request_seconds.Snapshot()));
  o.Set("batchSize", HistogramToJs(env, st.batch_size.Snapshot()));
  Napi::Array instances = Napi::Array::New(env, sched_->instance_count());
  for (size_t i = 0; i < sched_->instance_count(); ++i) {
    const auto& b = sched_->instance(i);
    const InstanceCounters& c = b->counters();
    Napi::Object io = Napi::Object::New(env);
    io.Set("index", double(i));
    io.Set("kind", b->stream().kind() == StreamKind::kGpu ? "KIND_GPU" : "KIND_CPU");
    io.Set("placements", double(c.placements.load()));
    io.Set("queued", double(c.queued_requests.load()));
    io.Set("inflight", double(c.inflight_samples.load()));
    io.Set("executions", double(c.executions.load()));
    io.Set("busySeconds", double(c.busy_ns.load()) * 1e-9);
    io.Set("restarts", double(c.restarts.load()));
    Napi::Array profile = Napi::Array::New(env);
    uint32_t k = 0;
    for (uint32_t s = 1; s <= b->profile().max_batch_size(); s = s < b->profile().max_batch_size() && s * 2 > b->profile().max_batch_size() ? b->profile().max_batch_size() : s * 2) {
      Napi::Object p = Napi::Object::New(env);
      p.Set("batchSize", double(s));
      p.Set("seconds", b->profile().PredictNs(s) * 1e-9);
      profile.Set(k++, p);
      if (s == b->profile().max_batch_size()) break;
    }
    io.Set("latencyProfile", profile);
    io.Set("profileErrorEwma", b->profile().ErrorEwma());
    instances.Set(uint32_t(i), io);
  }
  o.Set("instances", instances);
  return o;
}

}  // namespace serval::binding
