// CompletionDispatcher: the CompletionSink of one JS Runtime, and the pool of its request objects.
//
// Requests finish on executor and timer threads; the dispatcher queues them and wakes the JS thread
// through ONE ThreadSafeFunction. The drain builds no JS object per request: it writes a record per
// finished request into one Float64Array (see the layout below) and every requested fixed-width output
// into one ArrayBuffer, and calls the JS completion callback once per pass. The JS side (src/model/
// completion-table.ts) keeps the promises in a slot table and builds the result objects.
//
// Record layout (doubles), one per finished request, back to back:
//   slot, status code (0 = OK), instance, queue µs, compute µs, n, then n outputs of:
//   output index, dtype code, rank, dims[rank]..., byte offset in the buffer, byte length
// A failed request has n = 0; its message is the next entry of the `messages` array (in record order).
//
// Threads: Complete() from any thread; Acquire/Release/Drain/SettleNow on the JS thread; Shutdown() on
// the JS thread.
#pragma once

#include <napi.h>

#include <mutex>
#include <vector>

#include "core/inference_request.h"

namespace serval::binding {

class CompletionDispatcher final : public CompletionSink {
 public:
  // `on_complete(records: Float64Array, outputs: ArrayBuffer | undefined, messages: string[] | undefined)`.
  CompletionDispatcher(Napi::Env env, Napi::Function on_complete);
  ~CompletionDispatcher() override;

  void Complete(std::vector<RequestPtr> requests) override;
  // Releases the ThreadSafeFunction; later completions are dropped.
  void Shutdown();

  // A request object from the pool (JS thread), reset for a new request; Recycle gives one back.
  RequestPtr Acquire();
  void Recycle(RequestPtr req);

  // The slot of a request in the JS slot table (stored in user_data).
  static void SetSlot(InferenceRequest& r, uint32_t slot) { r.user_data = reinterpret_cast<void*>(uintptr_t(slot) + 1); }
  static bool HasSlot(const InferenceRequest& r) { return r.user_data != nullptr; }
  static uint32_t SlotOf(const InferenceRequest& r) { return uint32_t(reinterpret_cast<uintptr_t>(r.user_data) - 1); }

 private:
  void Drain(Napi::Env env);
  void Schedule();

  Napi::ThreadSafeFunction tsfn_;
  napi_ref on_complete_ = nullptr;
  napi_env env_;
  std::mutex mu_;
  std::vector<RequestPtr> pending_;
  bool scheduled_ = false;
  bool shut_down_ = false;
  std::vector<RequestPtr> pool_;  // JS thread only
};

}  // namespace serval::binding
