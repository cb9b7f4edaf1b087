#include "js_values.h"

#include <cmath>
#include <cstring>

namespace serval::binding {

void ThrowInvalidArgument(Napi::Env env, const std::string& message) {
  Napi::TypeError e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, StatusCodeName(StatusCode::kInvalidArgument)));
  e.ThrowAsJavaScriptException();
}

void ThrowStatus(Napi::Env env, const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument) return ThrowInvalidArgument(env, status.message());
  Napi::Error e = Napi::Error::New(env, status.message());
  e.Set("code", Napi::String::New(env, StatusCodeName(status.code())));
  e.ThrowAsJavaScriptException();
}

Napi::Value Refusal(Napi::Env env, const Status& status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", Napi::String::New(env, StatusCodeName(status.code())));
  o.Set("message", Napi::String::New(env, status.message()));
  return o;
}

namespace {
std::string Bound(double x) {
  return std::abs(x) < 1e15 ? std::to_string(int64_t(x)) : std::to_string(x);
}
}  // namespace

bool ReadNumber(Napi::Env env, Napi::Object o, const char* key, double lo, double hi, bool integral, double fallback,
                double* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
  if (!(d >= lo && d <= hi) || (integral && std::trunc(d) != d)) {
    ThrowInvalidArgument(env, std::string(key) + " must be " + (integral ? "an integer" : "a number") + " in [" +
                                  Bound(lo) + ", " + Bound(hi) + "]");
    return false;
  }
  *out = d;
  return true;
}

bool ReadU32(Napi::Env env, Napi::Object o, const char* key, uint32_t fallback, uint32_t* out) {
  double d;
  if (!ReadNumber(env, o, key, 0, 4294967295.0, true, fallback, &d)) return false;
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ReadI64(Napi::Env env, Napi::Object o, const char* key, int64_t fallback, int64_t* out) {
  double d;
  if (!ReadNumber(env, o, key, -9007199254740991.0, 9007199254740991.0, true, double(fallback), &d)) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool ReadString(Napi::Env env, Napi::Object o, const char* key, const std::string& fallback, std::string* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) {
    *out = fallback;
    return true;
  }
  if (!v.IsString()) {
    ThrowInvalidArgument(env, std::string(key) + " must be a string");
    return false;
  }
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

double NumberOr(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

bool BoolOr(Napi::Object o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

bool ReadNumbers(Napi::Env env, Napi::Value v, const char* what, std::vector<double>* out) {
  out->clear();
  if (v.IsUndefined() || v.IsNull()) return true;
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    for (size_t i = 0; i < t.ElementLength(); ++i) {
      Napi::Value x = t.Get(uint32_t(i));
      if (!x.IsNumber()) return Fail(env, std::string(what) + " must be an array of numbers");
      out->push_back(x.As<Napi::Number>().DoubleValue());
    }
    return true;
  }
  if (!v.IsArray()) return Fail(env, std::string(what) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value x = a.Get(i);
    if (!x.IsNumber()) return Fail(env, std::string(what) + " must be an array of numbers");
    out->push_back(x.As<Napi::Number>().DoubleValue());
  }
  return true;
}

bool OnlyKeys(Napi::Env env, Napi::Object o, const char* what, std::initializer_list<const char*> allowed) {
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string k = keys.Get(i).ToString().Utf8Value();
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) {
      ThrowInvalidArgument(env, std::string(what) + ": unknown field '" + k + "'");
      return false;
    }
  }
  return true;
}

}  // namespace serval::binding
