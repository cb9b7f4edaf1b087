#include "model_wrap.h"

#include <cmath>
#include <string>

#include "core/instance_registry.h"
#include "js_values.h"
#include "request_reader.h"
#include "tensor_convert.h"

namespace serval::binding {

namespace {

bool ReadTensorSpecs(Napi::Env env, Napi::Value v, std::vector<TensorSpec>* out) {
  if (!v.IsArray()) {
    ThrowInvalidArgument(env, "model inputs/outputs must be arrays");
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsObject()) {
      ThrowInvalidArgument(env, "model inputs/outputs must be objects");
      return false;
    }
    Napi::Object t = a.Get(i).As<Napi::Object>();
    TensorSpec s;
    if (!OnlyKeys(env, t, "tensor", {"name", "dtype", "dims"}) || !ReadString(env, t, "name", "", &s.name)) return false;
    uint32_t code = 0;
    if (!ReadU32(env, t, "dtype", 0, &code)) return false;
    if (!DTypeValid(static_cast<int>(code))) {
      ThrowInvalidArgument(env, "tensor '" + s.name + "' has an invalid dtype code");
      return false;
    }
    s.dtype = static_cast<DType>(code);
    if (!ArrayToDims(env, t.Get("dims"), &s.dims)) return false;
    out->push_back(std::move(s));
  }
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
                      InstanceMethod<&ModelWrap::ShareToken>("shareToken"),
                      InstanceMethod<&ModelWrap::Unshare>("unshare"),
                      InstanceMethod<&ModelWrap::ExecutorToken>("executorToken"),
                      InstanceMethod<&ModelWrap::FailInflight>("failInflight"),
                      InstanceMethod<&ModelWrap::NoteRestart>("noteRestart"),
                      InstanceMethod<&ModelWrap::Close>("close"),
                      InstanceMethod<&ModelWrap::Drained>("drained"),
                      InstanceMethod<&ModelWrap::Stats>("stats"),
                      InstanceMethod<&ModelWrap::Load>("load"),
                      InstanceMethod<&ModelWrap::SeedProfile>("seedProfile")});
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {}

ModelWrap::~ModelWrap() {
  for (uint64_t t : tokens_) InstanceRegistry::Unregister(t);
  if (shared_) {
    // Other environments (HTTP threads) stop reaching the scheduler before it goes.
    WithdrawSharedModel(share_token_);
    shared_->Retire();
  }
  if (sched_) sched_->Close(false);
}

void ModelWrap::Attach(Napi::Env env, std::shared_ptr<RuntimeCore> core, Napi::Object desc) {
  if (!OnlyKeys(env, desc, "model desc",
                {"name", "version", "maxBatchSize", "inputs", "outputs", "preferredBatchSizes", "maxQueueDelayUs",
                 "idleSpinUs", "priorityLevels", "defaultPriorityLevel", "queuePolicies", "instances", "sloUs", "policy",
                 "admission", "codelTargetUs", "codelIntervalUs", "concurrencyInitialLimit"})) {
    return;
  }
  ModelScheduler::Options o;
  BatchingConfig& b = o.batching;
  AdmissionOptions ao;
  int64_t delay_us = 0, spin_us = 0, slo_us = 0, codel_target_us = 0, codel_interval_us = 0;
  std::string policy_name, admission_name;
  if (!ReadString(env, desc, "name", "", &o.spec.name) || !ReadI64(env, desc, "version", 1, &o.spec.version) ||
      !ReadU32(env, desc, "maxBatchSize", 0, &o.spec.max_batch_size) ||
      !ReadTensorSpecs(env, desc.Get("inputs"), &o.spec.inputs) ||
      !ReadTensorSpecs(env, desc.Get("outputs"), &o.spec.outputs) ||
      !ReadI64(env, desc, "maxQueueDelayUs", 0, &delay_us) || !ReadI64(env, desc, "idleSpinUs", 0, &spin_us) ||
      !ReadU32(env, desc, "priorityLevels", 1, &b.priority_levels) ||
      !ReadU32(env, desc, "defaultPriorityLevel", 1, &b.default_priority_level) ||
      !ReadI64(env, desc, "sloUs", 0, &slo_us) || !ReadString(env, desc, "policy", "", &policy_name) ||
      !ReadString(env, desc, "admission", "none", &admission_name) ||
      !ReadI64(env, desc, "codelTargetUs", 0, &codel_target_us) ||
      !ReadI64(env, desc, "codelIntervalUs", 0, &codel_interval_us) ||
      !ReadU32(env, desc, "concurrencyInitialLimit", 0, &ao.initial_limit)) {
    return;
  }
  b.max_queue_delay_ns = delay_us * 1000;
  b.idle_spin_ns = spin_us * 1000;
  b.priority_levels = std::max<uint32_t>(1, b.priority_levels);
  if (desc.Get("preferredBatchSizes").IsArray()) {
    Napi::Array p = desc.Get("preferredBatchSizes").As<Napi::Array>();
    for (uint32_t i = 0; i < p.Length(); ++i) {
      if (!p.Get(i).IsNumber()) return ThrowInvalidArgument(env, "preferredBatchSizes must be numbers");
      b.preferred_batch_sizes.push_back(p.Get(i).As<Napi::Number>().Uint32Value());
    }
  }
  if (desc.Get("queuePolicies").IsArray()) {
    Napi::Array qp = desc.Get("queuePolicies").As<Napi::Array>();
    for (uint32_t i = 0; i < qp.Length(); ++i) {
      if (!qp.Get(i).IsObject()) return ThrowInvalidArgument(env, "queuePolicies must be objects");
      Napi::Object q = qp.Get(i).As<Napi::Object>();
      QueuePolicy policy;
      int64_t timeout_us = 0;
      if (!OnlyKeys(env, q, "queue policy", {"delayOnTimeout", "defaultTimeoutUs", "allowTimeoutOverride", "maxQueueSize"}) ||
          !ReadI64(env, q, "defaultTimeoutUs", 0, &timeout_us) || !ReadU32(env, q, "maxQueueSize", 0, &policy.max_queue_size)) {
        return;
      }
      policy.delay_on_timeout = q.Get("delayOnTimeout").ToBoolean();
      policy.default_timeout_ns = timeout_us * 1000;
      policy.allow_timeout_override = q.Get("allowTimeoutOverride").ToBoolean();
      b.queue_policies.push_back(policy);
    }
  }
  if (!desc.Get("instances").IsArray()) return ThrowInvalidArgument(env, "model desc needs instances[]");
  Napi::Array inst = desc.Get("instances").As<Napi::Array>();
  for (uint32_t i = 0; i < inst.Length(); ++i) {
    if (!inst.Get(i).IsObject()) return ThrowInvalidArgument(env, "instances must be objects");
    Napi::Object io = inst.Get(i).As<Napi::Object>();
    InstanceSpec s;
    std::string kind;
    int64_t device = 0;
    if (!OnlyKeys(env, io, "instance", {"kind", "device"}) || !ReadString(env, io, "kind", "CPU", &kind) ||
        !ReadI64(env, io, "device", 0, &device)) {
      return;
    }
    s.kind = kind == "GPU" ? StreamKind::kGpu : StreamKind::kCpu;
    s.device = static_cast<int>(device);
    o.instances.push_back(s);
  }
  o.slo_ns = slo_us * 1000;
  std::unique_ptr<PlacementPolicy> policy;
  Status st = CreatePlacementPolicy(policy_name, &policy);
  if (st.ok() && admission_name != "none") {
    ao.codel_target_ns = codel_target_us * 1000;
    ao.codel_interval_ns = codel_interval_us * 1000;
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
  if (!st.ok()) return ThrowStatus(env, st);
  core_ = std::move(core);
  spec_ = std::make_shared<const ModelSpec>(sched_->spec());
  offsets_.resize(spec_->inputs.size());
  for (size_t i = 0; i < sched_->instance_count(); ++i) tokens_.push_back(InstanceRegistry::Register(sched_->instance(i)));
}

Napi::Value ModelWrap::Enqueue(const Napi::CallbackInfo& info) {
  if (!sched_) {
    ThrowInvalidArgument(info.Env(), "enqueue: the model is not attached");
    return info.Env().Undefined();
  }
  return EnqueueFromJs(info, *spec_, *sched_, core_->header, core_->dispatcher, false, offsets_);
}

Napi::Value ModelWrap::ShareToken(const Napi::CallbackInfo& info) {
  if (!sched_) return info.Env().Undefined();
  if (!shared_) {
    shared_ = std::make_shared<SharedModel>(sched_.get(), spec_);
    share_token_ = PublishSharedModel(shared_);
  }
  shared_->SetOpen(true);
  return Napi::Number::New(info.Env(), double(share_token_));
}

Napi::Value ModelWrap::Unshare(const Napi::CallbackInfo& info) {
  if (shared_) shared_->SetOpen(false);
  return info.Env().Undefined();
}

Napi::Value ModelWrap::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!sched_ || info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) return Napi::Boolean::New(env, false);
  const uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  const uint32_t instance = info[1].As<Napi::Number>().Uint32Value();
  return Napi::Boolean::New(env, sched_->Cancel(instance, id));
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

Napi::Value ModelWrap::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pending", double(sched_ ? sched_->pending() : 0));
  o.Set("inFlight", double(sched_ ? std::max<int64_t>(0, sched_->stats().in_flight.load()) : 0));
  return o;
}

Napi::Value ModelWrap::Drained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !sched_ || sched_->Drained());
}

Napi::Value ModelWrap::SeedProfile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsArray() || !info[2].IsArray()) {
    ThrowInvalidArgument(env, "seedProfile(instance, batchSizes[], seconds[])");
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
