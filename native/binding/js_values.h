// The binding's one way to read JS objects and to report errors to JS, shared by every wrap
// (model_wrap, executor_wrap, runtime_wrap, sim_wrap, addon):
//   - every error thrown into JS carries a stable `code` (src/errors.ts names): a malformed argument is a
//     TypeError with code INVALID_ARGUMENT, a failed core Status an Error with the status's code;
//   - numeric fields are read with their range; a present field of the wrong type or out of range is an
//     error naming it (never a silent 0), and `OnlyKeys` rejects unknown (e.g. misspelled) fields.
// Functions returning bool leave a pending JS exception when they return false.
#pragma once

#include <napi.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "core/status.h"

namespace serval::binding {

void ThrowInvalidArgument(Napi::Env env, const std::string& message);
void ThrowStatus(Napi::Env env, const Status& status);
// {code, message}: what a call returns (rather than throws) when the core refused something it asked for.
Napi::Value Refusal(Napi::Env env, const Status& status);

// `o[key]` as a number in [lo, hi] (integral when `integral`); `fallback` when absent or undefined.
bool ReadNumber(Napi::Env env, Napi::Object o, const char* key, double lo, double hi, bool integral, double fallback,
                double* out);
// Shorthands for the common integer ranges.
bool ReadU32(Napi::Env env, Napi::Object o, const char* key, uint32_t fallback, uint32_t* out);
bool ReadI64(Napi::Env env, Napi::Object o, const char* key, int64_t fallback, int64_t* out);
// `o[key]` as a string; `fallback` when absent.
bool ReadString(Napi::Env env, Napi::Object o, const char* key, const std::string& fallback, std::string* out);
// The tooling's lenient readers (simulator and training options): `fallback` unless a number / boolean.
double NumberOr(Napi::Object o, const char* key, double fallback);
bool BoolOr(Napi::Object o, const char* key, bool fallback);
// A JS number[] or typed array (any numeric kind) as doubles; undefined or null is empty.
bool ReadNumbers(Napi::Env env, Napi::Value v, const char* what, std::vector<double>* out);
// Throws INVALID_ARGUMENT (`what`) and returns false: `return Fail(env, "...")` in readers.
inline bool Fail(Napi::Env env, const std::string& what) {
  ThrowInvalidArgument(env, what);
  return false;
}

// A copy of `v` as the matching typed array (float, double, uint32; anything else as Uint8Array).
template <typename T>
Napi::Value TypedCopy(Napi::Env env, const std::vector<T>& v) {
  auto fill = [&](auto a) {
    std::copy(v.begin(), v.end(), a.Data());
    return a;
  };
  if constexpr (std::is_same_v<T, float>) return fill(Napi::Float32Array::New(env, v.size()));
  else if constexpr (std::is_same_v<T, double>) return fill(Napi::Float64Array::New(env, v.size()));
  else if constexpr (std::is_same_v<T, uint32_t>) return fill(Napi::Uint32Array::New(env, v.size()));
  else return fill(Napi::Uint8Array::New(env, v.size()));
}

// Every own enumerable key of `o` is one of `allowed` (`what` names the object in the error).
bool OnlyKeys(Napi::Env env, Napi::Object o, const char* what, std::initializer_list<const char*> allowed);

}  // namespace serval::binding
