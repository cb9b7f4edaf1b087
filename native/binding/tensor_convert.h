// Conversions between JS tensor data (typed arrays, string arrays) and the core's byte buffers.
// Only cheap type checks happen here (TypeError); shapes and dtypes were validated in src/.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace serval::binding {

// Reads one input into `owned` at the returned offset (data left null; the caller fixes the pointer once
// `owned` stops growing): typed arrays are copied (the caller may reuse, transfer or detach them as soon as
// this returns), string arrays serialised (4-byte length prefix per element). Returns false with a pending TypeError on a type mismatch or a detached buffer.
bool ReadTensorData(Napi::Env env, Napi::Value value, DType dtype, const uint8_t** data, size_t* bytes,
                    size_t* owned_offset, std::vector<uint8_t>* owned);

// Serialises a JS string array into the length-prefixed layout (appends to `out`).
bool WriteStrings(Napi::Env env, Napi::Array strings, std::vector<uint8_t>* out);

// Builds the JS value for `bytes` of `dtype`: a new typed array (copied) or a string array.
Napi::Value MakeTensorData(Napi::Env env, DType dtype, const uint8_t* data, size_t bytes);

// A typed-array view of `dtype` over [offset, offset+bytes) of `buffer` (no copy).
Napi::Value MakeTypedView(Napi::Env env, DType dtype, Napi::ArrayBuffer buffer, size_t offset, size_t bytes);

// Decodes `count` length-prefixed strings into a JS array.
Napi::Value ReadStrings(Napi::Env env, const uint8_t* data, size_t bytes);

Napi::Array DimsToArray(Napi::Env env, const std::vector<int64_t>& dims);
bool ArrayToDims(Napi::Env env, Napi::Value value, std::vector<int64_t>* dims);

}  // namespace serval::binding
