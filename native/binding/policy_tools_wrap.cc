// The policy-network tools of the addon's `sim` object (see policy_tools_wrap.h).
#include "policy_tools_wrap.h"

#include <memory>
#include <string>
#include <vector>

#include "core/learned_policy.h"
#include "core/policy_network.h"
#include "js_values.h"
#include "sim/behaviour_cloning.h"
#include "sim/decision_recorder.h"
#include "sim/sim_random.h"

namespace serval::binding {

std::shared_ptr<PolicyWeights> DecodeWeights(Napi::Env env, Napi::Buffer<uint8_t> bytes) {
  auto w = std::make_shared<PolicyWeights>();
  Status st = DecodePolicyWeights(bytes.Data(), bytes.Length(), w.get());
  if (st.ok()) return w;
  ThrowStatus(env, st);
  return nullptr;
}

namespace {

using sim::DecisionDataset;

bool DatasetFromJs(Napi::Env env, Napi::Value v, DecisionDataset* d) {
  if (!v.IsObject()) return Fail(env, "dataset must be {features, offsets, labels}");
  Napi::Object o = v.As<Napi::Object>();
  auto typed = [&](const char* key, napi_typedarray_type type) {
    Napi::Value x = o.Get(key);
    return x.IsTypedArray() && x.As<Napi::TypedArray>().TypedArrayType() == type;
  };
  if (!typed("features", napi_float32_array) || !typed("offsets", napi_uint32_array) || !typed("labels", napi_uint8_array)) {
    return Fail(env, "dataset must be {features: Float32Array, offsets: Uint32Array, labels: Uint8Array}");
  }
  auto f = o.Get("features").As<Napi::Float32Array>();
  auto off = o.Get("offsets").As<Napi::Uint32Array>();
  auto lab = o.Get("labels").As<Napi::Uint8Array>();
  d->features.assign(f.Data(), f.Data() + f.ElementLength());
  d->offsets.assign(off.Data(), off.Data() + off.ElementLength());
  d->labels.assign(lab.Data(), lab.Data() + lab.ElementLength());
  if (d->offsets.empty() || d->offsets.size() != d->labels.size() + 1 ||
      size_t(d->offsets.back()) * kPolicyInputs != d->features.size()) {
    return Fail(env, "dataset arrays do not match (offsets, labels and features)");
  }
  for (size_t i = 0; i < d->labels.size(); ++i) {
    if (d->offsets[i + 1] <= d->offsets[i] || d->labels[i] >= d->offsets[i + 1] - d->offsets[i]) {
      return Fail(env, "dataset labels must index their decision's candidates");
    }
  }
  return true;
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
  if (!v.IsObject()) return Fail(env, "policy parts must be an object");
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
    if (!ReadNumbers(env, o.Get(f.key), f.key, &tmp)) return false;
    if (tmp.size() != f.n) return Fail(env, std::string(f.key) + " must hold " + std::to_string(f.n) + " numbers");
    for (size_t i = 0; i < f.n; ++i) f.dst[i] = float(tmp[i]);
  }
  w->max_error_ewma = float(NumberOr(o, "maxErrorEwma", 1e30));
  if (!ReadNumbers(env, o.Get("params"), "params", &tmp)) return false;
  if (tmp.size() != kPolicyParams) return Fail(env, "params must hold " + std::to_string(kPolicyParams) + " numbers");
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
    Fail(env, "decodePolicy(bytes: Buffer)");
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
    Fail(env, "behaviourClone(dataset, options: object)");
    return env.Undefined();
  }
  Napi::Object o = info[1].As<Napi::Object>();
  sim::BcOptions opt;
  opt.epochs = uint32_t(NumberOr(o, "epochs", opt.epochs));
  opt.batch_decisions = uint32_t(NumberOr(o, "batchDecisions", opt.batch_decisions));
  opt.learning_rate = NumberOr(o, "learningRate", opt.learning_rate);
  opt.seed = uint64_t(NumberOr(o, "seed", 1));
  PolicyWeights w{};
  sim::FitStandardisation(data, &w);
  sim::FitEnvelope(data, NumberOr(o, "envelopeMargin", 0.25), &w);
  w.max_error_ewma = float(NumberOr(o, "maxErrorEwma", 0.5));
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
    if (!env.IsExceptionPending()) Fail(env, "fitEnvelope(dataset, margin: number)");
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
    Fail(env, "scoreCandidates(policy: 'learned' | Buffer, features: Float32Array, n: number, impl?: string)");
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
    Fail(env, "features must hold n x " + std::to_string(kPolicyInputs) + " floats");
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
    Fail(env, "gaussianNoise(seed: number, count: number)");
    return env.Undefined();
  }
  sim::SimRandom rng(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
  const uint32_t n = info[1].As<Napi::Number>().Uint32Value();
  auto a = Napi::Float32Array::New(env, n);
  for (uint32_t i = 0; i < n; ++i) a[i] = float(rng.Normal());
  return a;
}

}  // namespace

void AddPolicyToolExports(Napi::Env env, Napi::Object o) {
  o.Set("behaviourClone", Napi::Function::New(env, BehaviourClone));
  o.Set("fitEnvelope", Napi::Function::New(env, FitEnvelope));
  o.Set("encodePolicy", Napi::Function::New(env, EncodePolicy));
  o.Set("decodePolicy", Napi::Function::New(env, DecodePolicy));
  o.Set("scoreCandidates", Napi::Function::New(env, ScoreCandidates));
  o.Set("gaussianNoise", Napi::Function::New(env, GaussianNoise));
}

}  // namespace serval::binding
