// Tensor element types: one table (SERVAL_DTYPES) that the enum, sizes, names and the binding's typed-array
// kinds are generated from. The numeric codes are shared with src/dtypes.ts (nativeCode): adding a type is
// one row here and one row there.
#pragma once

#include <cstddef>
#include <cstdint>

namespace serval {

// X(Name, code, bytes per element, v2 name, JS typed array kind). Rows are in code order, codes 1..N.
// BYTES elements are variable-length strings: in serval's buffers a BYTES tensor is a sequence of elements,
// each a 4-byte little-endian length followed by that many bytes (the v2 binary tensor layout); they travel
// to JavaScript as string arrays, so their typed-array kind is never used.
#define SERVAL_DTYPES(X)                        \
  X(Bool, 1, 1, "BOOL", uint8)                  \
  X(Uint8, 2, 1, "UINT8", uint8)                \
  X(Uint16, 3, 2, "UINT16", uint16)             \
  X(Uint32, 4, 4, "UINT32", uint32)             \
  X(Uint64, 5, 8, "UINT64", biguint64)          \
  X(Int8, 6, 1, "INT8", int8)                   \
  X(Int16, 7, 2, "INT16", int16)                \
  X(Int32, 8, 4, "INT32", int32)                \
  X(Int64, 9, 8, "INT64", bigint64)             \
  X(Fp16, 10, 2, "FP16", uint16)                \
  X(Fp32, 11, 4, "FP32", float32)               \
  X(Fp64, 12, 8, "FP64", float64)               \
  X(Bytes, 13, 0, "BYTES", uint8)

enum class DType : uint8_t {
  kInvalid = 0,
#define SERVAL_DTYPE_ENUM(name, code, size, v2, js) k##name = code,
  SERVAL_DTYPES(SERVAL_DTYPE_ENUM)
#undef SERVAL_DTYPE_ENUM
};

namespace dtype_detail {

struct Row {
  int code;
  size_t size;
  const char* name;
};

// Index = code; row 0 is kInvalid.
inline constexpr Row kRows[] = {
    {0, 0, "INVALID"},
#define SERVAL_DTYPE_ROW(name, code, size, v2, js) {code, size, v2},
    SERVAL_DTYPES(SERVAL_DTYPE_ROW)
#undef SERVAL_DTYPE_ROW
};

constexpr bool CodesAreIndices() {
  for (size_t i = 0; i < sizeof(kRows) / sizeof(kRows[0]); ++i) {
    if (kRows[i].code != static_cast<int>(i)) return false;
  }
  return true;
}
static_assert(CodesAreIndices(), "SERVAL_DTYPES rows must be in code order, codes 1..N");

}  // namespace dtype_detail

// The largest valid code (codes are 1..kDTypeMaxCode).
inline constexpr int kDTypeMaxCode = static_cast<int>(sizeof(dtype_detail::kRows) / sizeof(dtype_detail::kRows[0])) - 1;
static_assert(kDTypeMaxCode == 13, "a new type needs its row in src/dtypes.ts too");

inline constexpr bool DTypeValid(int code) { return code >= 1 && code <= kDTypeMaxCode; }

// Bytes per element; 0 for kBytes and kInvalid.
inline constexpr size_t DTypeSize(DType t) {
  const int code = static_cast<int>(t);
  return DTypeValid(code) ? dtype_detail::kRows[code].size : 0;
}

// "FP32", "BYTES", ... (the v2 names src/dtypes.ts uses); "INVALID" for anything else.
inline constexpr const char* DTypeName(DType t) {
  const int code = static_cast<int>(t);
  return DTypeValid(code) ? dtype_detail::kRows[code].name : "INVALID";
}

}  // namespace serval
