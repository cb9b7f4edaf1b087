// Monotonic time in nanoseconds. Every timestamp in the core (enqueue, deadlines, batch start/end) uses it.
#pragma once

#include <chrono>
#include <cstdint>

namespace serval {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::chrono::steady_clock::time_point ToTimePoint(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

}  // namespace serval
