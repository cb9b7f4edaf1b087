// SimWrap: the simulator, for `serval train-policy`, `serval profile` and the placement benchmark
// (src/placement/). Exported as the addon's `sim` object, with the policy-network tools of
// policy_tools_wrap.h:
//   simulate(config) -> result          one simulated run (synchronous; call it from a worker thread)
//   generateArrivals(spec) -> {timesS: Float64Array, models: Uint32Array}
// Malformed arguments throw INVALID_ARGUMENT; core failures throw with the status's code (js_values.h).
#pragma once

#include <napi.h>

namespace serval::binding {

Napi::Object SimExports(Napi::Env env);

}  // namespace serval::binding
