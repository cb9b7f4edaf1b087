// InstanceRegistry: the process-wide hand-off table through which an executor thread (a separate
// JavaScript environment with its own copy of the binding's state) finds the DynamicBatcher it serves.
// The scheduler's owner registers each instance and passes the numeric token to the executor.
//
// This is the core's only process-global state, by necessity: worker threads share nothing else with
// the thread that created the model. Entries are weak, so a token never keeps a model alive.
// Threads: all functions are thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "dynamic_batcher.h"

namespace serval {

class InstanceRegistry {
 public:
  static uint64_t Register(const std::shared_ptr<DynamicBatcher>& batcher);
  static void Unregister(uint64_t token);
  // nullptr when the token is unknown or the batcher is gone.
  static std::shared_ptr<DynamicBatcher> Find(uint64_t token);
};

}  // namespace serval
