#include "tensor_convert.h"

#include <cmath>
#include <cstring>

#include "js_values.h"

namespace serval::binding {

namespace {

// Index = DType code (row 0: kInvalid), generated from the SERVAL_DTYPES table.
constexpr napi_typedarray_type kTypedArrayTypes[] = {
    napi_uint8_array,
#define SERVAL_DTYPE_JS(name, code, size, v2, js) napi_##js##_array,
    SERVAL_DTYPES(SERVAL_DTYPE_JS)
#undef SERVAL_DTYPE_JS
};
static_assert(sizeof(kTypedArrayTypes) / sizeof(kTypedArrayTypes[0]) == kDTypeMaxCode + 1);

napi_typedarray_type TypedArrayTypeFor(DType t) {
  return DTypeValid(static_cast<int>(t)) ? kTypedArrayTypes[static_cast<int>(t)] : napi_uint8_array;
}

void PutU32LE(std::vector<uint8_t>* out, uint32_t v) {
  for (int k = 0; k < 4; ++k) out->push_back(static_cast<uint8_t>((v >> (8 * k)) & 0xff));
}

}  // namespace

bool WriteStrings(Napi::Env env, Napi::Array strings, std::vector<uint8_t>* out) {
  const uint32_t n = strings.Length();
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value v = strings.Get(i);
    if (v.IsString()) {
      std::string s = v.As<Napi::String>().Utf8Value();
      PutU32LE(out, static_cast<uint32_t>(s.size()));
      out->insert(out->end(), s.begin(), s.end());
    } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
      auto u8 = v.As<Napi::Uint8Array>();
      PutU32LE(out, static_cast<uint32_t>(u8.ByteLength()));
      out->insert(out->end(), u8.Data(), u8.Data() + u8.ByteLength());
    } else {
      ThrowInvalidArgument(env, "BYTES tensor elements must be strings or Uint8Arrays");
      return false;
    }
  }
  return true;
}

bool ReadTensorData(Napi::Env env, Napi::Value value, DType dtype, const uint8_t** data, size_t* bytes,
                    size_t* owned_offset, std::vector<uint8_t>* owned) {
  *data = nullptr;
  *bytes = 0;
  if (dtype == DType::kBytes) {
    if (!value.IsArray()) {
      ThrowInvalidArgument(env, "BYTES tensor data must be an array of strings");
      return false;
    }
    *owned_offset = owned->size();
    if (!WriteStrings(env, value.As<Napi::Array>(), owned)) return false;
    *bytes = owned->size() - *owned_offset;
    return true;
  }
  if (!value.IsTypedArray()) {
    ThrowInvalidArgument(env, "tensor data must be a typed array");
    return false;
  }
  // Raw napi calls, not Napi::TypedArray::ArrayBuffer(): that wrapper fails (and aborts the process on
  // its pending exception) when the typed array sits on a SharedArrayBuffer.
  napi_typedarray_type type;
  size_t length = 0;
  void* raw = nullptr;
  napi_value buffer;
  size_t byte_offset = 0;
  if (napi_get_typedarray_info(env, value, &type, &length, &raw, &buffer, &byte_offset) != napi_ok) {
    ThrowInvalidArgument(env, "cannot read the tensor's typed array");
    return false;
  }
  if (type != TypedArrayTypeFor(dtype)) {
    ThrowInvalidArgument(env, std::string("typed array type does not match ") + DTypeName(dtype));
    return false;
  }
  bool detached = false;
  napi_is_detached_arraybuffer(env, buffer, &detached);
  if (detached) {
    ThrowInvalidArgument(env, "tensor data is on a detached ArrayBuffer");
    return false;
  }
  // Copied now, not borrowed until the batch forms: a reference keeps the typed array alive but not its
  // memory, which the caller can transfer (structuredClone, postMessage) and the new owner free while the
  // request is queued (a segfault on the batcher thread), shrink (resizable buffers) or write from another
  // thread (SharedArrayBuffer). One memcpy on the calling thread buys the caller the array back at once.
  const size_t byte_length = length * DTypeSize(dtype);
  *owned_offset = owned->size();
  const uint8_t* src = static_cast<const uint8_t*>(raw);
  if (byte_length) owned->insert(owned->end(), src, src + byte_length);
  *bytes = byte_length;
  return true;
}

Napi::Value ReadStrings(Napi::Env env, const uint8_t* data, size_t bytes) {
  Napi::Array arr = Napi::Array::New(env);
  size_t off = 0;
  uint32_t i = 0;
  while (off + 4 <= bytes) {
    uint32_t len = uint32_t(data[off]) | (uint32_t(data[off + 1]) << 8) | (uint32_t(data[off + 2]) << 16) |
                   (uint32_t(data[off + 3]) << 24);
    off += 4;
    if (off + len > bytes) break;
    arr.Set(i++, Napi::String::New(env, reinterpret_cast<const char*>(data + off), len));
    off += len;
  }
  return arr;
}

Napi::Value MakeTypedView(Napi::Env env, DType dtype, Napi::ArrayBuffer buffer, size_t offset, size_t bytes) {
  size_t elem = DTypeSize(dtype);
  napi_value out;
  napi_create_typedarray(env, TypedArrayTypeFor(dtype), elem ? bytes / elem : 0, buffer, offset, &out);
  return Napi::Value(env, out);
}

Napi::Value MakeTensorData(Napi::Env env, DType dtype, const uint8_t* data, size_t bytes) {
  if (dtype == DType::kBytes) return ReadStrings(env, data, bytes);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(ab.Data(), data, bytes);
  return MakeTypedView(env, dtype, ab, 0, bytes);
}

Napi::Array DimsToArray(Napi::Env env, const std::vector<int64_t>& dims) {
  Napi::Array a = Napi::Array::New(env, dims.size());
  for (size_t i = 0; i < dims.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, double(dims[i])));
  return a;
}

bool ArrayToDims(Napi::Env env, Napi::Value value, std::vector<int64_t>* dims) {
  if (!value.IsArray()) {
    ThrowInvalidArgument(env, "dims must be an array of numbers");
    return false;
  }
  Napi::Array a = value.As<Napi::Array>();
  dims->resize(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value d = a.Get(i);
    double v = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : std::nan("");
    // Integers in [-1, 2^53) (-1: a variable dimension of a model's spec); never truncated here.
    if (!(v >= -1 && v <= 9007199254740991.0) || std::trunc(v) != v) {
      ThrowInvalidArgument(env, "dims must be an array of integers >= -1");
      return false;
    }
    (*dims)[i] = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace serval::binding
