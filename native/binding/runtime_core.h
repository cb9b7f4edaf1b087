// RuntimeCore: the native resources one JS Runtime shares among its models: the deadline timer
// thread, the execution-stream pool and the completion dispatcher. Held by shared_ptr by the
// RuntimeWrap and by every ModelWrap, so it outlives all schedulers that point into it.
#pragma once

#include <memory>

#include "completion_dispatcher.h"
#include "core/deadline_timer.h"
#include "core/execution_stream.h"

namespace serval::binding {

struct RuntimeCore {
  RuntimeCore(Napi::Env env, Napi::Function make_error) : dispatcher(env, make_error) {}
  DeadlineTimer timer;
  StreamPool streams;
  CompletionDispatcher dispatcher;
};

}  // namespace serval::binding
