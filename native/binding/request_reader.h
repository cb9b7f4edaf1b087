// EnqueueFromJs: one request from JS into a scheduler, the body of NativeModel.enqueue (model_wrap.h) and
// NativeModelHandle.enqueue (front_end_wrap.h). Reads the request's numbers from `header` (layout:
// model_wrap.h) and its typed-array inputs from the call's arguments, copies them into a pooled request of
// `dispatcher`, and enqueues it. Returns the instance, or {code, message} when the scheduler refused it;
// throws INVALID_ARGUMENT on malformed input. `foreign`: the scheduler belongs to another environment, so
// the request names `dispatcher` as its sink and is counted as handed out (completion_dispatcher.h).
#pragma once

#include <napi.h>

#include <vector>

#include "completion_dispatcher.h"
#include "core/model_scheduler.h"
#include "runtime_core.h"

namespace serval::binding {

Napi::Value EnqueueFromJs(const Napi::CallbackInfo& info, const ModelSpec& spec, ModelScheduler& sched,
                          const RequestHeader& header, CompletionDispatcher& dispatcher, bool foreign,
                          std::vector<size_t>& offsets);

}  // namespace serval::binding
