#include "sim_wrap.h"

#include <memory>
#include <string>
#include <vector>

#include "core/learned_policy.h"
#include "core/admission_policy.h"
#include "core/learned_admission_policy.h"
#include "core/policy_registry.h"
#include "core/placement_policy.h"
#include "core/policy_network.h"
#include "sim/arrival_process.h"
#include "sim/behaviour_cloning.h"
#include "sim/decision_recorder.h"
#include "sim/sim_random.h"
#include "sim/simulator.h"

namespace serval::binding {

namespace {

using sim::ArrivalSpec;
using sim::DecisionDataset;

void ThrowStatus(Napi::Env env, const Status& st) {
  Napi::Error e = Napi::Error::New(env, st.message());
  e.Set("code", Napi::String::New(env, StatusCodeName(st.code())));
  e.ThrowAsJavaScriptException();
}

bool TypeError(Napi::Env env, const std::string& what) {
  Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
  return false;
}

double Num(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

bool Bool(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

// A JS number[] or typed array (any numeric kind) as doubles.
bool Numbers(Napi::Env env, Napi::Value v, const char* what, std::vector<double>* out) {
  out->clear();
  if (v.IsUndefined() || v.IsNull()) return true;
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    for (size_t i = 0; i < t.ElementLength(); ++i) out->push_back(t.Get(uint32_t(i)).As<Napi::Number>().DoubleValue());
    return true;
  }
  if (!v.IsArray()) return TypeError(env, std::string(what) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value x = a.Get(i);
    if (!x.IsNumber()) return TypeError(env, std::string(what) + " must be an array of numbers");
    out->push_back(x.As<Napi::Number>().DoubleValue());
  }
  return true;
}

template <typename T>
Napi::Value TypedCopy(Napi::Env env, const std::vector<T>& v) {
  if constexpr (std::is_same_v<T, float>) {
    auto a = Napi::Float32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
  } else if constexpr (std::is_same_v<T, double>) {
    auto a = Napi::Float64Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    auto a = Napi::Uint32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
  } else {
    auto a = Napi::Uint8Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
  }
}

bool ReadArrivalSpec(Napi::Env env, Napi::Object o, ArrivalSpec* spec) {
  Napi::Value process = o.Get("process");
  if (o.Get("traceS").IsUndefined()) {
    if (!process.IsString()) return TypeError(env, "arrivals.process must be a string");
    Status st = sim::ParseArrivalKind(process.As<Napi::String>().Utf8Value(), spec);
    if (!st.ok()) {
      ThrowStatus(env, st);
      return false;
    }
  } else {
    spec->kind = ArrivalSpec::Kind::kTrace;
    if (!Numbers(env, o.Get("traceS"), "arrivals.traceS", &spec->trace_s)) return false;
  }
  spec->rate = Num(o, "rate", spec->rate);
  spec->rate_scale = Num(o, "rateScale", 1);
  spec->duration_s = Num(o, "durationS", spec->duration_s);
  spec->max_requests = uint64_t(Num(o, "maxRequests", 0));
  spec->samples = uint32_t(Num(o, "samples", 1));
  spec->seed = uint64_t(Num(o, "seed", 1));
  return Numbers(env, o.Get("modelWeights"), "arrivals.modelWeights", &spec->model_weights);
}

// Arrivals either generated from a spec or given as {timesS, models?, samples?}.
bool ReadArrivals(Napi::Env env, Napi::Value v, std::vector<sim::SimArrival>* out) {
  if (!v.IsObject()) return TypeError(env, "config.arrivals must be an object");
  Napi::Object o = v.As<Napi::Object>();
  if (o.Get("timesS").IsUndefined()) {
    ArrivalSpec spec;
    if (!ReadArrivalSpec(env, o, &spec)) return false;
    Status st = sim::GenerateArrivals(spec, out);
    if (!st.ok()) ThrowStatus(env, st);
    return st.ok();
  }
  std::vector<double> times, models, samples;
  if (!Numbers(env, o.Get("timesS"), "arrivals.timesS", &times) ||
      !Numbers(env, o.Get("models"), "arrivals.models", &models) ||
      !Numbers(env, o.Get("samples"), "arrivals.samples", &samples)) {
    return false;
  }
  out->resize(times.size());
  for (size_t i = 0; i < times.size(); ++i) {
    (*out)[i].t_ns = int64_t(times[i] * 1e9);
    (*out)[i].model = i < models.size() ? uint32_t(models[i]) : 0;
    (*out)[i].samples = i < samples.size() ? uint32_t(samples[i]) : 1;
  }
  return true;
}

// policy.bin bytes as weights; null with a pending error when they do not decode.
std::shared_ptr<PolicyWeights> DecodeWeights(Napi::Env env, Napi::Buffer<uint8_t> bytes) {
  auto w = std::make_shared<PolicyWeights>();
  Status st = DecodePolicyWeights(bytes.Data(), bytes.Length(), w.get());
  if (st.ok()) return w;
  ThrowStatus(env, st);
  return nullptr;
}

// A policy for one model: a name (CreatePlacementPolicy), or {weights: Buffer} (a policy.bin image).
bool MakePolicy(Napi::Env env, Napi::Value v, std::unique_ptr<PlacementPolicy>* out) {
  if (v.IsString()) {
    Status st = CreatePlacementPolicy(v.As<Napi::String>().Utf8Value(), out);
    if (!st.ok()) ThrowStatus(env, st);
    return st.ok();
  }
  if (v.IsObject() && v.As<Napi::Object>().Get("weights").IsBuffer()) {
    auto w = DecodeWeights(env, v.As<Napi::Object>().Get("weights").As<Napi::Buffer<uint8_t>>());
    if (!w) return false;
    *out = std::make_unique<LearnedPolicy>(std::move(w), "learned:<buffer>");
    return true;
  }
  return TypeError(env, "policy must be a policy name or {weights: Buffer}");
}

bool ReadModels(Napi::Env env, Napi::Value v, std::vector<sim::SimModelSpec>* out) {
  if (!v.IsArray()) return TypeError(env, "config.models must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsObject()) return TypeError(env, "config.models[] must be objects");
    Napi::Object m = a.Get(i).As<Napi::Object>();
    sim::SimModelSpec s;
    s.batching.max_batch_size = uint32_t(Num(m, "maxBatchSize", 0));
    std::vector<double> pref;
    if (!Numbers(env, m.Get("preferredBatchSizes"), "preferredBatchSizes", &pref)) return false;
    for (double p : pref) s.batching.preferred_batch_sizes.push_back(uint32_t(p));
    s.batching.max_queue_delay_ns = int64_t(Num(m, "maxQueueDelayUs", 0) * 1000);
    s.slo_ns = int64_t(Num(m, "sloUs", 0) * 1000);
    s.slo_to_policy = Bool(m, "sloToPolicy", true);
    s.queue_timeout_ns = int64_t(Num(m, "queueTimeoutUs", 0) * 1000);
    s.max_queue_size = uint32_t(Num(m, "maxQueueSize", 0));
    out->push_back(std::move(s));
  }
  return true;
}

bool ReadInstances(Napi::Env env, Napi::Value v, std::vector<sim::SimInstanceSpec>* out) {
  if (!v.IsArray()) return TypeError(env, "config.instances must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsObject()) return TypeError(env, "config.instances[] must be objects");
    Napi::Object o = a.Get(i).As<Napi::Object>();
    sim::SimInstanceSpec s;
    s.model = uint32_t(Num(o, "model", 0));
    s.noise_cv = Num(o, "noiseCv", 0);
    if (!Numbers(env, o.Get("latencyUs"), "latencyUs", &s.latency_ns) ||
        !Numbers(env, o.Get("seedProfileUs"), "seedProfileUs", &s.seed_profile_ns)) {
      return false;
    }
    for (double& x : s.latency_ns) x *= 1000;
    for (double& x : s.seed_profile_ns) x *= 1000;
    out->push_back(std::move(s));
  }
  return true;
}

Napi::Object DatasetToJs(Napi::Env env, const DecisionDataset& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("features", TypedCopy(env, d.features));
  o.Set("offsets", TypedCopy(env, d.offsets));
  o.Set("labels", TypedCopy(env, d.labels));
  return o;
}

bool DatasetFromJs(Napi::Env env, Napi::Value v, DecisionDataset* d) {
  if (!v.IsObject()) return TypeError(env, "dataset must be {features, offsets, labels}");
  Napi::Object o = v.As<Napi::Object>();
  if (!o.Get("features").IsTypedArray() || !o.Get("offsets").IsTypedArray() || !o.Get("labels").IsTypedArray()) {
    return TypeError(env, "dataset must be {features: Float32Array, offsets: Uint32Array, labels: Uint8Array}");
  }
  auto f = o.Get("features").As<Napi::Float32Array>();
  auto off = o.Get("offsets").As<Napi::Uint32Array>();
  auto lab = o.Get("labels").As<Napi::Uint8Array>();
  d->features.assign(f.Data(), f.Data() + f.ElementLength());
  d->offsets.assign(off.Data(), off.Data() + off.ElementLength());
  d->labels.assign(lab.Data(), lab.Data() + lab.ElementLength());
  if (d->offsets.empty() || d->offsets.size() != d->labels.size() + 1 ||
      size_t(d->offsets.back()) * kPolicyInputs != d->features.size()) {
    return TypeError(env, "dataset arrays do not match (offsets, labels and features)");
  }
  for (size_t i = 0; i < d->labels.size(); ++i) {
    if (d->offsets[i + 1] <= d->offsets[i] || d->labels[i] >= d->offsets[i + 1] - d->offsets[i]) {
      return TypeError(env, "dataset labels must index their decision's candidates");
    }
  }
  return true;
}

Napi::Object ResultToJs(Napi::Env env, const sim::SimResult& r, uint64_t fallbacks) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("arrivals", double(r.arrivals));
  o.Set("ok", double(r.ok));
  o.Set("withinSlo", double(r.within_slo));
  o.Set("timeouts", double(r.timeouts));
  o.Set("rejected", double(r.rejected));
  o.Set("shed", double(r.shed));
  Napi::Object by = Napi::Object::New(env);
  for (size_t k = 1; k < r.shed_by_reason.size(); ++k) {
    if (r.shed_by_reason[k]) by.Set(ShedReasonName(static_cast<ShedReason>(k)), double(r.shed_by_reason[k]));
  }
  o.Set("shedByReason", by);
  o.Set("spanS", r.span_s);
  o.Set("attainment", r.attainment);
  o.Set("goodput", r.goodput);
  o.Set("throughput", r.throughput);
  o.Set("p50Ms", r.p50_ns * 1e-6);
  o.Set("p95Ms", r.p95_ns * 1e-6);
  o.Set("p99Ms", r.p99_ns * 1e-6);
  o.Set("meanOkMs", r.mean_ok_ns * 1e-6);
  o.Set("meanNormLatency", r.mean_norm_latency);
  o.Set("meanBatch", r.mean_batch);
  o.Set("batches", double(r.batches));
  o.Set("decisions", double(r.decisions));
  o.Set("policyFallbacks", double(fallbacks));
  std::vector<double> placements(r.placements.begin(), r.placements.end());
  o.Set("placements", TypedCopy(env, placements));
  o.Set("busyFraction", TypedCopy(env, r.busy_fraction));
  if (!r.latencies_ns.empty()) {
    std::vector<double> ms(r.latencies_ns);
    for (double& x : ms) x = x < 0 ? -1 : x * 1e-6;
    o.Set("latenciesMs", TypedCopy(env, ms));
  }
  return o;
}

Napi::Value Simulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    TypeError(env, "simulate(config: object)");
    return env.Undefined();
  }
  Napi::Object c = info[0].As<Napi::Object>();
  std::vector<sim::SimModelSpec> models;
  std::vector<sim::SimInstanceSpec> instances;
  std::vector<sim::SimArrival> arrivals;
  if (!ReadModels(env, c.Get("models"), &models) || !ReadInstances(env, c.Get("instances"), &instances) ||
      !ReadArrivals(env, c.Get("arrivals"), &arrivals)) {
    return env.Undefined();
  }
  sim::SimOptions options;
  if (c.Get("options").IsObject()) {
    Napi::Object o = c.Get("options").As<Napi::Object>();
    options.seed = uint64_t(Num(o, "seed", 1));
    options.decision_ns = int64_t(Num(o, "decisionNs", 0));
    options.overhead_ns = int64_t(Num(o, "overheadUs", 0) * 1000);
    options.warmup_ns = int64_t(Num(o, "warmupS", 0) * 1e9);
    options.online_profile = Bool(o, "onlineProfile", true);
    options.keep_latencies = Bool(o, "keepLatencies", false);
  }
  const size_t n_models = models.size();
  std::unique_ptr<sim::Simulator> simulator;
  Status st = sim::Simulator::Create(std::move(models), std::move(instances), options, &simulator);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  // One policy object per model, as in the runtime. `policy` may be one spec for all or an array.
  Napi::Value pv = c.Get("policy");
  std::vector<std::unique_ptr<PlacementPolicy>> owned(n_models);
  for (size_t m = 0; m < n_models; ++m) {
    Napi::Value spec = pv.IsArray() ? pv.As<Napi::Array>().Get(uint32_t(m)) : pv;
    if (!MakePolicy(env, spec, &owned[m])) return env.Undefined();
  }
  // Recording: {teacher: name} records the teacher's choice at every decision the policy takes.
  std::vector<std::unique_ptr<PlacementPolicy>> teachers(n_models);
  std::vector<std::unique_ptr<sim::DecisionRecorder>> recorders(n_models);
  DecisionDataset dataset;
  std::vector<PlacementPolicy*> policies(n_models);
  const bool record = c.Get("record").IsObject();
  for (size_t m = 0; m < n_models; ++m) {
    policies[m] = owned[m].get();
    if (!record) continue;
    Napi::Value teacher = c.Get("record").As<Napi::Object>().Get("teacher");
    if (teacher.IsString() && teacher.As<Napi::String>().Utf8Value() != "self") {
      if (!MakePolicy(env, teacher, &teachers[m])) return env.Undefined();
    }
    PlacementPolicy* t = teachers[m] ? teachers[m].get() : owned[m].get();
    recorders[m] = std::make_unique<sim::DecisionRecorder>(owned[m].get(), t, &dataset);
    policies[m] = recorders[m].get();
  }
  // Admission: `admission` is one name for all models or an array (absent: none), with `admissionOptions`.
  std::vector<std::unique_ptr<AdmissionPolicy>> admission_owned(n_models);
  std::vector<AdmissionPolicy*> admissions;
  Napi::Value av = c.Get("admission");
  if (!av.IsUndefined() && !av.IsNull()) {
    admissions.resize(n_models, nullptr);
    AdmissionOptions ao;
    if (c.Get("admissionOptions").IsObject()) {
      Napi::Object opt = c.Get("admissionOptions").As<Napi::Object>();
      ao.codel_target_ns = int64_t(Num(opt, "codelTargetUs", 0) * 1000);
      ao.codel_interval_ns = int64_t(Num(opt, "codelIntervalUs", 0) * 1000);
      ao.initial_limit = uint32_t(Num(opt, "initialLimit", 0));
    }
    for (size_t m = 0; m < n_models; ++m) {
      Napi::Value spec = av.IsArray() ? av.As<Napi::Array>().Get(uint32_t(m)) : av;
      if (spec.IsObject() && !spec.IsArray() && spec.As<Napi::Object>().Get("learnedWeights").IsTypedArray()) {
        // {learnedWeights: Float32Array}: the learned admission head with these weights (training).
        std::vector<double> w;
        if (!Numbers(env, spec.As<Napi::Object>().Get("learnedWeights"), "learnedWeights", &w)) return env.Undefined();
        if (w.size() != kAdmissionFeatures) {
          TypeError(env, "learnedWeights needs " + std::to_string(kAdmissionFeatures) + " numbers");
          return env.Undefined();
        }
        AdmissionWeights aw{};
        for (uint32_t k = 0; k < kAdmissionFeatures; ++k) aw[k] = float(w[k]);
        admission_owned[m] = std::make_unique<LearnedAdmissionPolicy>(aw);
        admissions[m] = admission_owned[m].get();
        continue;
      }
      if (!spec.IsString()) {
        TypeError(env, "admission must be a policy name, {learnedWeights}, or an array of them");
        return env.Undefined();
      }
      AdmissionOptions mo = ao;
      mo.instances = uint32_t(simulator->model_instance_count(m));
      mo.max_batch_size = simulator->model_max_batch_size(m);
      st = CreateAdmissionPolicy(spec.As<Napi::String>().Utf8Value(), mo, &admission_owned[m]);
      if (!st.ok()) {
        ThrowStatus(env, st);
        return env.Undefined();
      }
      admissions[m] = admission_owned[m].get();
    }
  }
  sim::SimResult result;
  st = simulator->Run(arrivals, policies, &result, admissions);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  uint64_t fallbacks = 0;
  for (auto& p : owned) fallbacks += p->fallbacks();
  Napi::Object out = ResultToJs(env, result, fallbacks);
  if (record) out.Set("dataset", DatasetToJs(env, dataset));
  return out;
}

Napi::Value GenerateArrivals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    TypeError(env, "generateArrivals(spec: object)");
    return env.Undefined();
  }
  std::vector<sim::SimArrival> arrivals;
  ArrivalSpec spec;
  if (!ReadArrivalSpec(env, info[0].As<Napi::Object>(), &spec)) return env.Undefined();
  Status st = sim::GenerateArrivals(spec, &arrivals);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  std::vector<double> times;
  std::vector<uint32_t> models;
  for (auto& a : arrivals) {
    times.push_back(double(a.t_ns) * 1e-9);
    models.push_back(a.model);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("timesS", TypedCopy(env, times));
  o.Set("models", TypedCopy(env, models));
  return o;
}

Napi::Object PartsToJs(Napi::Env env, const PolicyWeights& w) {
  Napi::Object o = Napi::Object::New(env);
  auto arr = [&](const float* p, size_t n) { return TypedCopy(env, std::vector<float>(p, p + n)); };
  o.Set("featureMean", arr(w.feature_mean, kPolicyInputs));
  o.Set("featureInvStd", arr(w.feature_inv_std, kPolicyInputs));
  o.Set("envelopeLo", arr(w.envelope_lo, kPolicyInputs));
  o.Set("envelopeHi", arr(w.envelope_hi, kPolicyInputs));
  o.Set("maxErrorEwma", double(w.max_error_ewma));
  std::vector<float> params(kPolicyParams);
  GetPolicyParams(w, params.data());
  o.Set("params", TypedCopy(env, params));
  return o;
}

bool PartsFromJs(Napi::Env env, Napi::Value v, PolicyWeights* w) {
  if (!v.IsObject()) return TypeError(env, "policy parts must be an object");
  Napi::Object o = v.As<Napi::Object>();
  struct Field {
    const char* key;
    float* dst;
    size_t n;
  } fields[] = {{"featureMean", w->feature_mean, kPolicyInputs},
                {"featureInvStd", w->feature_inv_std, kPolicyInputs},
                {"envelopeLo", w->envelope_lo, kPolicyInputs},
                {"envelopeHi", w->envelope_hi, kPolicyInputs}};
  std::vector<double> tmp;
  for (auto& f : fields) {
    if (!Numbers(env, o.Get(f.key), f.key, &tmp)) return false;
    if (tmp.size() != f.n) return TypeError(env, std::string(f.key) + " must hold " + std::to_string(f.n) + " numbers");
    for (size_t i = 0; i < f.n; ++i) f.dst[i] = float(tmp[i]);
  }
  w->max_error_ewma = float(Num(o, "maxErrorEwma", 1e30));
  if (!Numbers(env, o.Get("params"), "params", &tmp)) return false;
  if (tmp.size() != kPolicyParams) return TypeError(env, "params must hold " + std::to_string(kPolicyParams) + " numbers");
  std::vector<float> p(tmp.begin(), tmp.end());
  SetPolicyParams(w, p.data());
  return true;
}

Napi::Value EncodePolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PolicyWeights w{};
  if (info.Length() < 1 || !PartsFromJs(env, info[0], &w)) return env.Undefined();
  std::vector<uint8_t> bytes = EncodePolicyWeights(w);
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Value DecodePolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    TypeError(env, "decodePolicy(bytes: Buffer)");
    return env.Undefined();
  }
  auto w = DecodeWeights(env, info[0].As<Napi::Buffer<uint8_t>>());
  return w ? Napi::Value(PartsToJs(env, *w)) : env.Undefined();
}

Napi::Value BehaviourClone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecisionDataset data;
  if (info.Length() < 2 || !DatasetFromJs(env, info[0], &data)) return env.Undefined();
  if (!info[1].IsObject()) {
    TypeError(env, "behaviourClone(dataset, options: object)");
    return env.Undefined();
  }
  Napi::Object o = info[1].As<Napi::Object>();
  sim::BcOptions opt;
  opt.epochs = uint32_t(Num(o, "epochs", opt.epochs));
  opt.batch_decisions = uint32_t(Num(o, "batchDecisions", opt.batch_decisions));
  opt.learning_rate = Num(o, "learningRate", opt.learning_rate);
  opt.seed = uint64_t(Num(o, "seed", 1));
  PolicyWeights w{};
  sim::FitStandardisation(data, &w);
  sim::FitEnvelope(data, Num(o, "envelopeMargin", 0.25), &w);
  w.max_error_ewma = float(Num(o, "maxErrorEwma", 0.5));
  sim::BcReport report;
  Status st = sim::TrainBehaviourCloning(data, opt, &w, &report);
  if (!st.ok()) {
    ThrowStatus(env, st);
    return env.Undefined();
  }
  Napi::Object out = PartsToJs(env, w);
  Napi::Array loss = Napi::Array::New(env), acc = Napi::Array::New(env);
  for (size_t i = 0; i < report.loss.size(); ++i) {
    loss.Set(uint32_t(i), report.loss[i]);
    acc.Set(uint32_t(i), report.accuracy[i]);
  }
  out.Set("loss", loss);
  out.Set("accuracy", acc);
  return out;
}

Napi::Value FitEnvelope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecisionDataset data;
  if (info.Length() < 2 || !DatasetFromJs(env, info[0], &data) || !info[1].IsNumber()) {
    if (!env.IsExceptionPending()) TypeError(env, "fitEnvelope(dataset, margin: number)");
    return env.Undefined();
  }
  PolicyWeights w{};
  sim::FitEnvelope(data, info[1].As<Napi::Number>().DoubleValue(), &w);
  Napi::Object o = Napi::Object::New(env);
  o.Set("lo", TypedCopy(env, std::vector<float>(w.envelope_lo, w.envelope_lo + kPolicyInputs)));
  o.Set("hi", TypedCopy(env, std::vector<float>(w.envelope_hi, w.envelope_hi + kPolicyInputs)));
  return o;
}

Napi::Value ScoreCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsNumber()) {
    TypeError(env, "scoreCandidates(policy: 'learned' | Buffer, features: Float32Array, n: number, impl?: string)");
    return env.Undefined();
  }
  std::shared_ptr<const PolicyWeights> weights;
  if (info[0].IsBuffer()) {
    weights = DecodeWeights(env, info[0].As<Napi::Buffer<uint8_t>>());
    if (!weights) return env.Undefined();
  } else {
    weights = BundledPolicyWeights();
  }
  auto features = info[1].As<Napi::Float32Array>();
  const uint32_t n = info[2].As<Napi::Number>().Uint32Value();
  if (size_t(n) * kPolicyInputs != features.ElementLength()) {
    TypeError(env, "features must hold n x " + std::to_string(kPolicyInputs) + " floats");
    return env.Undefined();
  }
  const std::string impl = info.Length() > 3 && info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "auto";
  std::vector<float> scores(n);
  if (impl == "scalar" || (impl == "avx2" && !PolicySimdAvailable())) {
    ScorePolicyCandidatesScalar(*weights, features.Data(), n, scores.data());
  } else if (impl == "avx2") {
    ScorePolicyCandidatesAvx2(*weights, features.Data(), n, scores.data());
  } else {
    ScorePolicyCandidates(*weights, features.Data(), n, scores.data());
  }
  return TypedCopy(env, scores);
}

Napi::Value GaussianNoise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    TypeError(env, "gaussianNoise(seed: number, count: number)");
    return env.Undefined();
  }
  sim::SimRandom rng(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
  const uint32_t n = info[1].As<Napi::Number>().Uint32Value();
  auto a = Napi::Float32Array::New(env, n);
  for (uint32_t i = 0; i < n; ++i) a[i] = float(rng.Normal());
  return a;
}

}  // namespace

Napi::Object SimExports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("simulate", Napi::Function::New(env, Simulate));
  o.Set("generateArrivals", Napi::Function::New(env, GenerateArrivals));
  o.Set("behaviourClone", Napi::Function::New(env, BehaviourClone));
  o.Set("fitEnvelope", Napi::Function::New(env, FitEnvelope));
  o.Set("encodePolicy", Napi::Function::New(env, EncodePolicy));
  o.Set("decodePolicy", Napi::Function::New(env, DecodePolicy));
  o.Set("scoreCandidates", Napi::Function::New(env, ScoreCandidates));
  o.Set("gaussianNoise", Napi::Function::New(env, GaussianNoise));
  o.Set("simdAvailable", Napi::Boolean::New(env, PolicySimdAvailable()));
  o.Set("policyParams", Napi::Number::New(env, kPolicyParams));
  o.Set("admissionFeatures", Napi::Number::New(env, kAdmissionFeatures));
  {
    const AdmissionWeights& w = BundledAdmissionWeights();
    o.Set("bundledAdmissionWeights", TypedCopy(env, std::vector<float>(w.begin(), w.end())));
  }
  o.Set("policyInputs", Napi::Number::New(env, kPolicyInputs));
  return o;
}

}  // namespace serval::binding
