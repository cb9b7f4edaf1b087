#include "policy_network.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SERVAL_POLICY_X86 1
#endif

namespace serval {

namespace {

constexpr char kMagic[8] = {'S', 'R', 'V', 'L', 'P', 'O', 'L', '1'};
constexpr uint32_t kVersion = 1;
// Floats stored after the header: the four feature arrays, max_error_ewma, the parameters.
constexpr size_t kStoredFloats = 4 * kPolicyInputs + 1 + kPolicyParams;
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 * sizeof(uint32_t);
constexpr size_t kFileBytes = kHeaderBytes + kStoredFloats * sizeof(float) + sizeof(uint32_t);

uint32_t Fnv1a(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint32_t GetU32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

void PutF32(std::vector<uint8_t>& out, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  PutU32(out, v);
}

float GetF32(const uint8_t* p) {
  uint32_t v = GetU32(p);
  float f;
  std::memcpy(&f, &v, 4);
  return f;
}

// Pointers to the stored float arrays of `w`, in file order, with their lengths.
template <typename W, typename F>
void ForEachStoredArray(W& w, F fn) {
  fn(w.feature_mean, kPolicyInputs);
  fn(w.feature_inv_std, kPolicyInputs);
  fn(w.envelope_lo, kPolicyInputs);
  fn(w.envelope_hi, kPolicyInputs);
  fn(&w.max_error_ewma, 1u);
  fn(&w.w1[0][0], kPolicyInputs * kPolicyHidden1);
  fn(w.b1, kPolicyHidden1);
  fn(&w.w2[0][0], kPolicyHidden1 * kPolicyHidden2);
  fn(w.b2, kPolicyHidden2);
  fn(w.w3, kPolicyHidden2);
  fn(&w.b3, 1u);
}

// Output layer: eight lane sums, reduced in this order by both implementations.
inline float ReduceLanes(const float* lanes, float bias) {
  float s = bias;
  for (int l = 0; l < 8; ++l) s += lanes[l];
  return s;
}

bool DetectSimd() {
#if defined(SERVAL_POLICY_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

void SetPolicyParams(PolicyWeights* w, const float* p) {
  size_t off = 0;
  auto take = [&](float* dst, size_t n) {
    std::memcpy(dst, p + off, n * sizeof(float));
    off += n;
  };
  take(&w->w1[0][0], kPolicyInputs * kPolicyHidden1);
  take(w->b1, kPolicyHidden1);
  take(&w->w2[0][0], kPolicyHidden1 * kPolicyHidden2);
  take(w->b2, kPolicyHidden2);
  take(w->w3, kPolicyHidden2);
  take(&w->b3, 1);
}

void GetPolicyParams(const PolicyWeights& w, float* p) {
  size_t off = 0;
  auto put = [&](const float* src, size_t n) {
    std::memcpy(p + off, src, n * sizeof(float));
    off += n;
  };
  put(&w.w1[0][0], kPolicyInputs * kPolicyHidden1);
  put(w.b1, kPolicyHidden1);
  put(&w.w2[0][0], kPolicyHidden1 * kPolicyHidden2);
  put(w.b2, kPolicyHidden2);
  put(w.w3, kPolicyHidden2);
  put(&w.b3, 1);
}

void ScorePolicyCandidatesScalar(const PolicyWeights& w, const float* features, uint32_t n, float* scores) {
  for (uint32_t c = 0; c < n; ++c) {
    const float* x = features + size_t(c) * kPolicyInputs;
    float z[kPolicyInputs];
    for (uint32_t i = 0; i < kPolicyInputs; ++i) z[i] = (x[i] - w.feature_mean[i]) * w.feature_inv_std[i];
    float h1[kPolicyHidden1];
    for (uint32_t j = 0; j < kPolicyHidden1; ++j) {
      float acc = w.b1[j];
      for (uint32_t i = 0; i < kPolicyInputs; ++i) acc = std::fma(z[i], w.w1[i][j], acc);
      h1[j] = acc > 0.f ? acc : 0.f;
    }
    float h2[kPolicyHidden2];
    for (uint32_t j = 0; j < kPolicyHidden2; ++j) {
      float acc = w.b2[j];
      for (uint32_t i = 0; i < kPolicyHidden1; ++i) acc = std::fma(h1[i], w.w2[i][j], acc);
      h2[j] = acc > 0.f ? acc : 0.f;
    }
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint32_t r = 0; r < kPolicyHidden2 / 8; ++r) {
      for (int l = 0; l < 8; ++l) lanes[l] = std::fma(h2[8 * r + l], w.w3[8 * r + l], lanes[l]);
    }
    scores[c] = ReduceLanes(lanes, w.b3);
  }
}

#if defined(SERVAL_POLICY_X86)
namespace {

// a[c] = bias + sum over i of in[c][i] * weights[i] (32 outputs as four 8-lane registers), accumulated
// in input order with fused multiply-adds. The weights are loaded once for all K candidates.
template <int K, uint32_t kIn>
__attribute__((target("avx2,fma"), always_inline)) inline void AxpyLayer(const float (*weights)[32], const float* bias,
                                                                          const float (&in)[K][kIn], __m256 (&a)[K][4]) {
  for (int c = 0; c < K; ++c) {
    for (int r = 0; r < 4; ++r) a[c][r] = _mm256_load_ps(bias + 8 * r);
  }
  for (uint32_t i = 0; i < kIn; ++i) {
    const float* row = weights[i];
    const __m256 w0 = _mm256_load_ps(row), w1 = _mm256_load_ps(row + 8);
    const __m256 w2 = _mm256_load_ps(row + 16), w3 = _mm256_load_ps(row + 24);
    for (int c = 0; c < K; ++c) {
      const __m256 xi = _mm256_broadcast_ss(&in[c][i]);
      a[c][0] = _mm256_fmadd_ps(xi, w0, a[c][0]);
      a[c][1] = _mm256_fmadd_ps(xi, w1, a[c][1]);
      a[c][2] = _mm256_fmadd_ps(xi, w2, a[c][2]);
      a[c][3] = _mm256_fmadd_ps(xi, w3, a[c][3]);
    }
  }
}

// K candidates at a time (K = 2 keeps eight independent FMA chains in flight; the weights are loaded
// once for both). Each lane's operations are those of the scalar code, in the same order.
template <int K>
__attribute__((target("avx2,fma"), always_inline)) inline void ScoreAvx2Block(const PolicyWeights& w, const float* x,
                                                                               float* scores) {
  const __m256 zero = _mm256_setzero_ps();
  alignas(32) float z[K][kPolicyInputs];
  for (int c = 0; c < K; ++c) {
    for (uint32_t k = 0; k < kPolicyInputs; k += 8) {
      __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + c * kPolicyInputs + k), _mm256_load_ps(w.feature_mean + k));
      _mm256_store_ps(z[c] + k, _mm256_mul_ps(v, _mm256_load_ps(w.feature_inv_std + k)));
    }
  }
  __m256 a[K][4];
  AxpyLayer<K>(w.w1, w.b1, z, a);
  alignas(32) float h1[K][kPolicyHidden1];
  for (int c = 0; c < K; ++c) {
    for (int r = 0; r < 4; ++r) _mm256_store_ps(h1[c] + 8 * r, _mm256_max_ps(a[c][r], zero));
  }
  AxpyLayer<K>(w.w2, w.b2, h1, a);
  for (int c = 0; c < K; ++c) {
    // Output layer: lane l accumulates h2[8r+l] * w3[8r+l] over r in order, from 0, like the scalar code.
    __m256 out = zero;
    for (int r = 0; r < 4; ++r) out = _mm256_fmadd_ps(_mm256_max_ps(a[c][r], zero), _mm256_load_ps(w.w3 + 8 * r), out);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, out);
    scores[c] = ReduceLanes(lanes, w.b3);
  }
}

}  // namespace

__attribute__((target("avx2,fma"))) void ScorePolicyCandidatesAvx2(const PolicyWeights& w, const float* features,
                                                                     uint32_t n, float* scores) {
  static_assert(kPolicyInputs == 16 && kPolicyHidden1 == 32 && kPolicyHidden2 == 32,
                "the AVX2 forward pass is written for a 16-32-32-1 network");
  uint32_t c = 0;
  for (; c + 2 <= n; c += 2) ScoreAvx2Block<2>(w, features + size_t(c) * kPolicyInputs, scores + c);
  if (c < n) ScoreAvx2Block<1>(w, features + size_t(c) * kPolicyInputs, scores + c);
}
#else
void ScorePolicyCandidatesAvx2(const PolicyWeights& w, const float* features, uint32_t n, float* scores) {
  ScorePolicyCandidatesScalar(w, features, n, scores);
}
#endif

bool PolicySimdAvailable() {
  static const bool available = DetectSimd();
  return available;
}

void ScorePolicyCandidates(const PolicyWeights& w, const float* features, uint32_t n, float* scores) {
  if (PolicySimdAvailable()) {
    ScorePolicyCandidatesAvx2(w, features, n, scores);
  } else {
    ScorePolicyCandidatesScalar(w, features, n, scores);
  }
}

std::vector<uint8_t> EncodePolicyWeights(const PolicyWeights& w) {
  std::vector<uint8_t> out(kMagic, kMagic + sizeof(kMagic));
  out.reserve(kFileBytes);
  PutU32(out, kVersion);
  PutU32(out, kPolicyInputs);
  PutU32(out, kPolicyHidden1);
  PutU32(out, kPolicyHidden2);
  ForEachStoredArray(w, [&](const float* a, size_t n) {
    for (size_t i = 0; i < n; ++i) PutF32(out, a[i]);
  });
  PutU32(out, Fnv1a(out.data(), out.size()));
  return out;
}

Status DecodePolicyWeights(const uint8_t* data, size_t size, PolicyWeights* out) {
  auto invalid = [](const std::string& why) { return Status(StatusCode::kInvalidArgument, why); };
  if (size < kHeaderBytes || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    return invalid("not a serval policy weights file (bad magic; expected 'SRVLPOL1')");
  }
  const uint32_t version = GetU32(data + 8);
  if (version != kVersion) {
    return invalid("unsupported policy weights version " + std::to_string(version) + " (this build reads " +
                   std::to_string(kVersion) + ")");
  }
  const uint32_t in = GetU32(data + 12), h1 = GetU32(data + 16), h2 = GetU32(data + 20);
  if (in != kPolicyInputs || h1 != kPolicyHidden1 || h2 != kPolicyHidden2) {
    return invalid("policy network is " + std::to_string(in) + "-" + std::to_string(h1) + "-" + std::to_string(h2) +
                   "-1, this build runs " + std::to_string(kPolicyInputs) + "-" + std::to_string(kPolicyHidden1) + "-" +
                   std::to_string(kPolicyHidden2) + "-1");
  }
  if (size != kFileBytes) {
    return invalid("policy weights file has " + std::to_string(size) + " bytes, expected " +
                   std::to_string(kFileBytes) + (size < kFileBytes ? " (truncated)" : ""));
  }
  if (GetU32(data + size - 4) != Fnv1a(data, size - 4)) {
    return invalid("policy weights file checksum mismatch (corrupted)");
  }
  PolicyWeights w{};
  const uint8_t* p = data + kHeaderBytes;
  bool finite = true;
  ForEachStoredArray(w, [&](float* a, size_t n) {
    for (size_t i = 0; i < n; ++i, p += 4) {
      a[i] = GetF32(p);
      if (!std::isfinite(a[i])) finite = false;
    }
  });
  if (!finite) return invalid("policy weights file holds a non-finite value");
  *out = w;
  return Status::Ok();
}

Status LoadPolicyWeightsFile(const std::string& path, PolicyWeights* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(StatusCode::kInvalidArgument, "cannot read policy weights file '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Status st = DecodePolicyWeights(bytes.data(), bytes.size(), out);
  if (!st.ok()) return Status(st.code(), "policy weights file '" + path + "': " + st.message());
  return st;
}

}  // namespace serval
