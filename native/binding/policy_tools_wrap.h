// The policy-network tools, exported on the addon's `sim` object next to the simulator (sim_wrap.h):
//   behaviourClone(dataset, options) -> {policy parts..., loss: number[], accuracy: number[]}
//   fitEnvelope(dataset, margin) -> {lo: Float32Array, hi: Float32Array}
//   encodePolicy(parts) -> Buffer       decodePolicy(buffer) -> parts   (policy.bin)
//   scoreCandidates(policy, features: Float32Array, n, impl?) -> Float32Array
//   gaussianNoise(seed, count) -> Float32Array
// Malformed arguments throw INVALID_ARGUMENT; core failures throw with the status's code (js_values.h).
#pragma once

#include <napi.h>

#include <memory>

#include "core/policy_network.h"

namespace serval::binding {

// policy.bin bytes as weights; null with a pending error when they do not decode.
std::shared_ptr<PolicyWeights> DecodeWeights(Napi::Env env, Napi::Buffer<uint8_t> bytes);

void AddPolicyToolExports(Napi::Env env, Napi::Object exports);

}  // namespace serval::binding
