#include "sim_wrap.h"

#include "js_values.h"
#include "policy_tools_wrap.h"

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
#include "sim/decision_recorder.h"
#include "sim/simulator.h"

namespace serval::binding {

namespace {

using sim::ArrivalSpec;
using sim::DecisionDataset;

bool ReadArrivalSpec(Napi::Env env, Napi::Object o, ArrivalSpec* spec) {
  Napi::Value process = o.Get("process");
  if (o.Get("traceS").IsUndefined()) {
    if (!process.IsString()) return Fail(env, "arrivals.process must be a string");
    Status st = sim::ParseArrivalKind(process.As<Napi::String>().Utf8Value(), spec);
    if (!st.ok()) {
      ThrowStatus(env, st);
      return false;
    }
  } else {
    spec->kind = ArrivalSpec::Kind::kTrace;
    if (!ReadNumbers(env, o.Get("traceS"), "arrivals.traceS", &spec->trace_s)) return false;
  }
  spec->rate = NumberOr(o, "rate", spec->rate);
  spec->rate_scale = NumberOr(o, "rateScale", 1);
  spec->duration_s = NumberOr(o, "durationS", spec->duration_s);
  spec->max_requests = uint64_t(NumberOr(o, "maxRequests", 0));
  spec->samples = uint32_t(NumberOr(o, "samples", 1));
  spec->seed = uint64_t(NumberOr(o, "seed", 1));
  return ReadNumbers(env, o.Get("modelWeights"), "arrivals.modelWeights", &spec->model_weights);
}

// Arrivals either generated from a spec or given as {timesS, models?, samples?}.
bool ReadArrivals(Napi::Env env, Napi::Value v, std::vector<sim::SimArrival>* out) {
  if (!v.IsObject()) return Fail(env, "config.arrivals must be an object");
  Napi::Object o = v.As<Napi::Object>();
  if (o.Get("timesS").IsUndefined()) {
    ArrivalSpec spec;
    if (!ReadArrivalSpec(env, o, &spec)) return false;
    Status st = sim::GenerateArrivals(spec, out);
    if (!st.ok()) ThrowStatus(env, st);
    return st.ok();
  }
  std::vector<double> times, models, samples;
  if (!ReadNumbers(env, o.Get("timesS"), "arrivals.timesS", &times) ||
      !ReadNumbers(env, o.Get("models"), "arrivals.models", &models) ||
      !ReadNumbers(env, o.Get("samples"), "arrivals.samples", &samples)) {
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
  return Fail(env, "policy must be a policy name or {weights: Buffer}");
}

bool ReadModels(Napi::Env env, Napi::Value v, std::vector<sim::SimModelSpec>* out) {
  if (!v.IsArray()) return Fail(env, "config.models must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsObject()) return Fail(env, "config.models[] must be objects");
    Napi::Object m = a.Get(i).As<Napi::Object>();
    sim::SimModelSpec s;
    s.batching.max_batch_size = uint32_t(NumberOr(m, "maxBatchSize", 0));
    std::vector<double> pref;
    if (!ReadNumbers(env, m.Get("preferredBatchSizes"), "preferredBatchSizes", &pref)) return false;
    for (double p : pref) s.batching.preferred_batch_sizes.push_back(uint32_t(p));
    s.batching.max_queue_delay_ns = int64_t(NumberOr(m, "maxQueueDelayUs", 0) * 1000);
    s.slo_ns = int64_t(NumberOr(m, "sloUs", 0) * 1000);
    s.slo_to_policy = BoolOr(m, "sloToPolicy", true);
    s.queue_timeout_ns = int64_t(NumberOr(m, "queueTimeoutUs", 0) * 1000);
    s.max_queue_size = uint32_t(NumberOr(m, "maxQueueSize", 0));
    out->push_back(std::move(s));
  }
  return true;
}

bool ReadInstances(Napi::Env env, Napi::Value v, std::vector<sim::SimInstanceSpec>* out) {
  if (!v.IsArray()) return Fail(env, "config.instances must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsObject()) return Fail(env, "config.instances[] must be objects");
    Napi::Object o = a.Get(i).As<Napi::Object>();
    sim::SimInstanceSpec s;
    s.model = uint32_t(NumberOr(o, "model", 0));
    s.noise_cv = NumberOr(o, "noiseCv", 0);
    if (!ReadNumbers(env, o.Get("latencyUs"), "latencyUs", &s.latency_ns) ||
        !ReadNumbers(env, o.Get("seedProfileUs"), "seedProfileUs", &s.seed_profile_ns)) {
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
    Fail(env, "simulate(config: object)");
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
    options.seed = uint64_t(NumberOr(o, "seed", 1));
    options.decision_ns = int64_t(NumberOr(o, "decisionNs", 0));
    options.overhead_ns = int64_t(NumberOr(o, "overheadUs", 0) * 1000);
    options.warmup_ns = int64_t(NumberOr(o, "warmupS", 0) * 1e9);
    options.online_profile = BoolOr(o, "onlineProfile", true);
    options.keep_latencies = BoolOr(o, "keepLatencies", false);
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
      ao.codel_target_ns = int64_t(NumberOr(opt, "codelTargetUs", 0) * 1000);
      ao.codel_interval_ns = int64_t(NumberOr(opt, "codelIntervalUs", 0) * 1000);
      ao.initial_limit = uint32_t(NumberOr(opt, "initialLimit", 0));
    }
    for (size_t m = 0; m < n_models; ++m) {
      Napi::Value spec = av.IsArray() ? av.As<Napi::Array>().Get(uint32_t(m)) : av;
      if (spec.IsObject() && !spec.IsArray() && spec.As<Napi::Object>().Get("learnedWeights").IsTypedArray()) {
        // {learnedWeights: Float32Array}: the learned admission head with these weights (training).
        std::vector<double> w;
        if (!ReadNumbers(env, spec.As<Napi::Object>().Get("learnedWeights"), "learnedWeights", &w)) return env.Undefined();
        if (w.size() != kAdmissionFeatures) {
          Fail(env, "learnedWeights needs " + std::to_string(kAdmissionFeatures) + " numbers");
          return env.Undefined();
        }
        AdmissionWeights aw{};
        for (uint32_t k = 0; k < kAdmissionFeatures; ++k) aw[k] = float(w[k]);
        admission_owned[m] = std::make_unique<LearnedAdmissionPolicy>(aw);
        admissions[m] = admission_owned[m].get();
        continue;
      }
      if (!spec.IsString()) {
        Fail(env, "admission must be a policy name, {learnedWeights}, or an array of them");
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
    Fail(env, "generateArrivals(spec: object)");
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

}  // namespace

Napi::Object SimExports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("simulate", Napi::Function::New(env, Simulate));
  o.Set("generateArrivals", Napi::Function::New(env, GenerateArrivals));
  o.Set("simdAvailable", Napi::Boolean::New(env, PolicySimdAvailable()));
  o.Set("policyParams", Napi::Number::New(env, kPolicyParams));
  o.Set("admissionFeatures", Napi::Number::New(env, kAdmissionFeatures));
  {
    const AdmissionWeights& w = BundledAdmissionWeights();
    o.Set("bundledAdmissionWeights", TypedCopy(env, std::vector<float>(w.begin(), w.end())));
  }
  o.Set("policyInputs", Napi::Number::New(env, kPolicyInputs));
  AddPolicyToolExports(env, o);
  return o;
}

}  // namespace serval::binding
