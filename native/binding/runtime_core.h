// RuntimeCore: the native resources one JS Runtime shares among its models: the deadline timer
// thread, the execution-stream pool, the completion dispatcher and the request header. Held by
// shared_ptr by the RuntimeWrap and by every ModelWrap, so it outlives all schedulers that point into it.
#pragma once

#include <napi.h>

#include <memory>

#include "completion_dispatcher.h"
#include "core/deadline_timer.h"
#include "core/execution_stream.h"

namespace serval::binding {

// A Float64Array the JS side writes each request's numbers into before it calls enqueue, so the
// binding reads them from memory instead of through one napi call per field (layout: model_wrap.h).
struct RequestHeader {
  RequestHeader(Napi::Env env, Napi::Float64Array array)
      : data(array.Data()), length(array.ElementLength()), ref(Napi::Persistent(array)) {}
  const double* data;
  size_t length;
  Napi::Reference<Napi::Float64Array> ref;  // keeps the memory alive
};

// The constructor arguments of NativeRuntime and NativeFrontEnd, (onComplete, header): true when they are a
// function and a Float64Array of at least 64 elements; else throws INVALID_ARGUMENT naming `ctor` and is false.
bool CompletionArguments(const Napi::CallbackInfo& info, const char* ctor);

struct RuntimeCore {
  RuntimeCore(Napi::Env env, Napi::Function on_complete, Napi::Float64Array header)
      : header(env, header), dispatcher(env, on_complete) {}
  RequestHeader header;
  DeadlineTimer timer;
  StreamPool streams;
  CompletionDispatcher dispatcher;
};

}  // namespace serval::binding
