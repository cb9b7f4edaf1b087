// CompletionDispatcher: the CompletionSink of one JS Runtime, and the pool of its request objects.
//
// Requests finish on executor and timer threads; the dispatcher queues them and wakes the JS thread
// through ONE ThreadSafeFunction. The drain builds no JS object per request: it writes a record per
// finished request into one Float64Array (see the layout below) and hands the output bytes over in a few
// ArrayBuffers, and calls the JS completion callback once per pass. The JS side (src/model/
// completion-table.ts) keeps the promises in a slot table and builds the result objects.
//
// Output bytes are copied once, by the batcher, into the batch's OutputArena (core/tensor.h), when the batch
// output is large (kOutputArenaMinBytes); small ones are in each request's own bytes. An arena this drain
// reads at least kShareMinBytes from becomes a buffer of its own without another copy: an external
// ArrayBuffer over the whole arena that keeps it alive until the buffer is collected (so a result tensor
// retains its batch's arena). Everything else is copied into buffer 0, where a fresh ArrayBuffer costs less
// than an external one and no result retains other requests' bytes. Where external buffers are refused,
// shared arenas are copied whole.
//
// Record layout (doubles), one per finished request, back to back:
//   slot, status code (0 = OK), instance, queue µs, compute µs, n, then n outputs of:
//   output index, dtype code, rank, dims[rank]..., buffer index, byte offset in that buffer, byte length
// A failed request has n = 0; its message is the next entry of the `messages` array (in record order).
// `buffers[0]` is the copy buffer (undefined when nothing was copied); `buffers` is undefined when no output
// has bytes.
//
// Threads: Complete() from any thread; Acquire/Release/Drain/SettleNow on the JS thread; Shutdown() on
// the JS thread.
//
// Two lifetimes. A runtime's dispatcher is a member of its RuntimeCore, which outlives every scheduler that
// completes into it. An HTTP thread's dispatcher (front_end_wrap.h) is the sink of requests it put into
// schedulers it does not own, which may finish after the thread's environment is gone: it lives on the heap,
// `Retire` gives it up, and it deletes itself once its thread-safe function is finalized and every request it
// handed out (`HandOut`) has come back through Complete.
#pragma once

#include <napi.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "core/inference_request.h"

namespace serval::binding {

class CompletionDispatcher final : public CompletionSink {
 public:
  // `on_complete(records: Float64Array, buffers: (ArrayBuffer | undefined)[] | undefined,
  //              messages: string[] | undefined)`.
  // `self_deleting`: a heap object given up by Retire (see above), never deleted by its owner.
  CompletionDispatcher(Napi::Env env, Napi::Function on_complete, bool self_deleting = false);
  ~CompletionDispatcher() override;

  void Complete(std::vector<RequestPtr> requests) override;
  // Releases the ThreadSafeFunction; later completions are dropped.
  void Shutdown();
  // A self-deleting dispatcher's owner lets go of it (JS thread); `this` may be gone when it returns.
  void Retire();
  // A request this dispatcher acquired was accepted by a scheduler: it comes back through Complete.
  // Called before the scheduler sees it; `TakeBack` when the scheduler refused it.
  void HandOut() { outstanding_.fetch_add(1, std::memory_order_relaxed); }
  void TakeBack() { outstanding_.fetch_sub(1, std::memory_order_relaxed); }

  // A request object from the pool (JS thread), reset for a new request; Recycle gives one back.
  RequestPtr Acquire();
  void Recycle(RequestPtr req);

  // The slot of a request in the JS slot table (stored in user_data).
  static void SetSlot(InferenceRequest& r, uint32_t slot) { r.user_data = reinterpret_cast<void*>(uintptr_t(slot) + 1); }
  static bool HasSlot(const InferenceRequest& r) { return r.user_data != nullptr; }
  static uint32_t SlotOf(const InferenceRequest& r) { return uint32_t(reinterpret_cast<uintptr_t>(r.user_data) - 1); }

 private:
  // An arena read for fewer bytes than this in one drain is copied slice by slice into buffer 0 (see above).
  // Measured with jsthread on identity models (2026-11-25, README "Not supported yet"): at 16 KiB per drain
  // the copy cost less JS-thread CPU than an external buffer, at 64 KiB the external buffer did.
  static constexpr size_t kShareMinBytes = kOutputArenaMinBytes;

  void Drain(Napi::Env env);
  // A JS ArrayBuffer over all of `arena`: external, holding a reference to the arena, or a copy where
  // external buffers are refused.
  napi_value ShareArena(napi_env env, const std::shared_ptr<const OutputArena>& arena);
  void Schedule();
  bool LastReference();

  Napi::ThreadSafeFunction tsfn_;
  napi_ref on_complete_ = nullptr;
  napi_env env_;
  std::mutex mu_;
  std::vector<RequestPtr> pending_;
  bool scheduled_ = false;
  bool shut_down_ = false;
  std::vector<RequestPtr> pool_;  // JS thread only
  bool external_buffers_ = true;   // JS thread only: false once the runtime refused one
  // Self-deleting dispatchers only (under mu_ except the counter).
  const bool self_deleting_;
  bool retired_ = false, finalized_ = false, deleting_ = false;
  std::atomic<int64_t> outstanding_{0};
};

}  // namespace serval::binding
