// Tensor element types. The numeric codes are shared with src/dtypes.ts (nativeCode).
#pragma once

#include <cstddef>
#include <cstdint>

namespace serval {

enum class DType : uint8_t {
  kInvalid = 0,
  kBool = 1,
  kUint8 = 2,
  kUint16 = 3,
  kUint32 = 4,
  kUint64 = 5,
  kInt8 = 6,
  kInt16 = 7,
  kInt32 = 8,
  kInt64 = 9,
  kFp16 = 10,
  kFp32 = 11,
  kFp64 = 12,
  // Variable-length strings. In serval's buffers a BYTES tensor is a sequence of elements, each a 4-byte
  // little-endian length followed by that many bytes (the v2 binary tensor layout).
  kBytes = 13,
};

// Bytes per element; 0 for kBytes and kInvalid.
inline size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kBool: case DType::kUint8: case DType::kInt8: return 1;
    case DType::kUint16: case DType::kInt16: case DType::kFp16: return 2;
    case DType::kUint32: case DType::kInt32: case DType::kFp32: return 4;
    case DType::kUint64: case DType::kInt64: case DType::kFp64: return 8;
    default: return 0;
  }
}

inline bool DTypeValid(int code) { return code >= 1 && code <= 13; }

}  // namespace serval
