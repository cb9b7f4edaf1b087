// SimWrap: the simulator and the policy-network tools, for `serval train-policy`, `serval profile`
// and the placement benchmark (src/placement/). Exported as the addon's `sim` object:
//   simulate(config) -> result          one simulated run (synchronous; call it from a worker thread)
//   generateArrivals(spec) -> {timesS: Float64Array, models: Uint32Array}
//   behaviourClone(dataset, options) -> {policy: Buffer, loss: number[], accuracy: number[]}
//   fitEnvelope(dataset, margin) -> {lo: Float32Array, hi: Float32Array}
//   encodePolicy(parts) -> Buffer       decodePolicy(buffer) -> parts   (policy.bin)
//   scoreCandidates(policy, features: Float32Array, n, impl?) -> Float32Array
//   gaussianNoise(seed, count) -> Float32Array
// Only type checks here (TypeError); semantic errors come from the core as Error with `code`.
#pragma once

#include <napi.h>

namespace serval::binding {

Napi::Object SimExports(Napi::Env env);

}  // namespace serval::binding
