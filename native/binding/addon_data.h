// Per-environment state of the addon (one per main thread or worker thread that loads it), freed by
// Node when that environment is torn down. No mutable globals: the binding is safe in worker threads.
#pragma once

#include <napi.h>

namespace serval::binding {

struct AddonData {
  Napi::FunctionReference model_constructor;
  Napi::FunctionReference handle_constructor;  // NativeModelHandle (front_end_wrap.h)
};

}  // namespace serval::binding
