// PolicyNetwork: the learned placement policy's per-candidate scorer, a 16-32-32-1 MLP with ReLU,
// its weights, and the weights file format (policy.bin).
//
// The forward pass has an AVX2/FMA version, chosen at run time when the CPU has both, and a scalar
// version that gives bit-identical scores: every multiply-add is a fused multiply-add (std::fma in
// the scalar code), accumulated per hidden unit in input order, and the output layer's eight
// partial sums are reduced in one fixed order in both versions. Neither allocates.
//
// Threads: PolicyWeights are immutable once built; Score* may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace serval {

constexpr uint32_t kPolicyInputs = 16;
constexpr uint32_t kPolicyHidden1 = 32;
constexpr uint32_t kPolicyHidden2 = 32;
// Trainable parameters, in this order: w1 [inputs][hidden1], b1, w2 [hidden1][hidden2], b2, w3 [hidden2], b3.
constexpr uint32_t kPolicyParams = kPolicyInputs * kPolicyHidden1 + kPolicyHidden1 +
                                   kPolicyHidden1 * kPolicyHidden2 + kPolicyHidden2 + kPolicyHidden2 + 1;

struct alignas(32) PolicyWeights {
  // Input standardisation: z = (x - feature_mean) * feature_inv_std.
  float feature_mean[kPolicyInputs];
  float feature_inv_std[kPolicyInputs];
  // Training envelope of the raw features; a decision with a feature outside it falls back to EFT.
  float envelope_lo[kPolicyInputs];
  float envelope_hi[kPolicyInputs];
  // A decision falls back to EFT when any candidate's latency-profile error EWMA exceeds this.
  float max_error_ewma;
  float pad_[7];
  float w1[kPolicyInputs][kPolicyHidden1];
  float b1[kPolicyHidden1];
  float w2[kPolicyHidden1][kPolicyHidden2];
  float b2[kPolicyHidden2];
  float w3[kPolicyHidden2];
  float b3;
};

// Copies the flat trainable parameters (kPolicyParams floats) in or out.
void SetPolicyParams(PolicyWeights* w, const float* params);
void GetPolicyParams(const PolicyWeights& w, float* params);

// Scores of `n` candidates whose raw features are rows of `features` ([n][kPolicyInputs]).
void ScorePolicyCandidates(const PolicyWeights& w, const float* features, uint32_t n, float* scores);
// The two implementations (ScorePolicyCandidates picks one); the AVX2 one must only be called when
// PolicySimdAvailable().
void ScorePolicyCandidatesScalar(const PolicyWeights& w, const float* features, uint32_t n, float* scores);
void ScorePolicyCandidatesAvx2(const PolicyWeights& w, const float* features, uint32_t n, float* scores);
bool PolicySimdAvailable();

// policy.bin: "SRVLPOL1" magic, u32 version (1), u32 inputs, hidden1, hidden2, then the f32 arrays of
// PolicyWeights in declaration order (max_error_ewma without padding), then a u32 FNV-1a checksum of
// every preceding byte; little-endian. Errors are kInvalidArgument with the reason.
std::vector<uint8_t> EncodePolicyWeights(const PolicyWeights& w);
Status DecodePolicyWeights(const uint8_t* data, size_t size, PolicyWeights* out);
Status LoadPolicyWeightsFile(const std::string& path, PolicyWeights* out);

}  // namespace serval
