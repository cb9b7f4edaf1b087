#include "completion_dispatcher.h"

#include <cstring>

namespace serval::binding {

namespace {

// Requests kept for reuse: enough for a few thousand in flight without a malloc per request.
constexpr size_t kPoolLimit = 8192;

size_t Aligned(size_t n) { return (n + 7) & ~size_t(7); }

void DropArena(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<const OutputArena>*>(hint); }

bool Returns(const InferenceRequest& r, size_t i) {
  return (r.output_mask & (1ull << i)) && r.outputs[i].dtype != DType::kInvalid;
}

}  // namespace

CompletionDispatcher::CompletionDispatcher(Napi::Env env, Napi::Function on_complete, bool self_deleting)
    : env_(env), self_deleting_(self_deleting) {
  napi_create_reference(env, on_complete, 1, &on_complete_);
  Napi::Function noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  if (self_deleting) {
    // The finalizer runs on the JS thread after the last queued drain: from then on nothing of the
    // environment refers to this object.
    tsfn_ = Napi::ThreadSafeFunction::New(env, noop, "serval.completions", 0, 1, [this](Napi::Env) {
      bool last;
      {
        std::lock_guard<std::mutex> lock(mu_);
        finalized_ = true;
        last = LastReference();
      }
      if (last) delete this;
    });
  } else {
    tsfn_ = Napi::ThreadSafeFunction::New(env, noop, "serval.completions", 0, 1);
  }
  // Pending promises do not keep the process alive by themselves; the executor threads do.
  tsfn_.Unref(env);
}

CompletionDispatcher::~CompletionDispatcher() {
  Shutdown();
  if (on_complete_) napi_delete_reference(env_, on_complete_);
}

void CompletionDispatcher::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  tsfn_.Release();
}

void CompletionDispatcher::Retire() {
  Shutdown();
  if (on_complete_) napi_delete_reference(env_, on_complete_);
  on_complete_ = nullptr;
  pool_.clear();
  bool last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    retired_ = true;
    last = LastReference();
  }
  if (last) delete this;
}

bool CompletionDispatcher::LastReference() {
  // mu_ held. Each event (retired, finalized, last request back) changes its state and decides here in one
  // critical section, so exactly one of them deletes and none touches `this` after another could have.
  if (!self_deleting_ || !retired_ || !finalized_ || deleting_ || outstanding_.load() != 0) return false;
  deleting_ = true;
  return true;
}

RequestPtr CompletionDispatcher::Acquire() {
  if (pool_.empty()) return std::make_unique<InferenceRequest>();
  RequestPtr r = std::move(pool_.back());
  pool_.pop_back();
  return r;
}

void CompletionDispatcher::Recycle(RequestPtr r) {
  if (pool_.size() >= kPoolLimit) return;
  // Keep the vectors' capacity (inputs, dims, owned bytes, outputs): the next request reuses it.
  auto inputs = std::move(r->inputs);
  auto owned = std::move(r->owned_bytes);
  auto outputs = std::move(r->outputs);
  *r = InferenceRequest();
  owned.clear();
  for (auto& o : outputs) {
    o.dtype = DType::kInvalid;
    o.arena.reset();
  }
  r->inputs = std::move(inputs);
  r->owned_bytes = std::move(owned);
  r->outputs = std::move(outputs);
  pool_.push_back(std::move(r));
}

void CompletionDispatcher::Schedule() {
  // mu_ held by the caller.
  if (scheduled_ || shut_down_) return;
  scheduled_ = true;
  tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) {
    if (env != nullptr) Drain(env);
  });
}

void CompletionDispatcher::Complete(std::vector<RequestPtr> requests) {
  bool last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (self_deleting_) outstanding_.fetch_sub(int64_t(requests.size()), std::memory_order_relaxed);
    if (!shut_down_) {
      for (auto& r : requests) pending_.push_back(std::move(r));
      Schedule();
      return;
    }
    // The environment is going away; nobody can observe these promises: they are freed with `requests`,
    // and the last one back may free the dispatcher.
    last = LastReference();
  }
  if (last) delete this;
}

void CompletionDispatcher::Drain(Napi::Env env) {
  std::vector<RequestPtr> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
    scheduled_ = false;
  }
  if (batch.empty() || on_complete_ == nullptr) return;  // retired: the requests are freed with `batch`
  Napi::HandleScope scope(env);
  // Which buffer each returned output is read from: an arena this drain reads at least kShareMinBytes from
  // gets a buffer of its own (index 1, 2, ...); the slices of the others are copied into buffer 0. Few
  // distinct arenas per drain: a linear scan, with the previous output's arena checked first (consecutive
  // requests usually come from one batch).
  struct ArenaUse {
    std::shared_ptr<const OutputArena> arena;
    size_t bytes;         // read by this drain, each slice rounded up to 8
    uint32_t buffer = 0;  // set once every use is counted
  };
  std::vector<ArenaUse> uses;
  size_t last = 0;
  auto use_of = [&](const std::shared_ptr<const OutputArena>& a) -> ArenaUse& {
    if (last < uses.size() && uses[last].arena == a) return uses[last];
    last = 0;
    while (last < uses.size() && uses[last].arena != a) ++last;
    if (last == uses.size()) uses.push_back({a, 0});
    return uses[last];
  };
  size_t doubles = 0, failed = 0, copied = 0;
  for (auto& r : batch) {
    doubles += 6;
    if (!r->status.ok()) {
      ++failed;
      continue;
    }
    for (size_t i = 0; i < r->outputs.size(); ++i) {
      if (!Returns(*r, i)) continue;
      const OutputData& o = r->outputs[i];
      doubles += 6 + o.dims.size();
      if (o.arena) {
        use_of(o.arena).bytes += Aligned(o.byte_size);
      } else {
        copied += Aligned(o.byte_size);
      }
    }
  }
  std::vector<const ArenaUse*> shared;
  for (ArenaUse& u : uses) {
    if (u.bytes >= kShareMinBytes) {
      shared.push_back(&u);
      u.buffer = uint32_t(shared.size());
    } else {
      copied += u.bytes;
    }
  }
  napi_value records_ab, records, buffers = nullptr, messages = nullptr, undefined;
  napi_get_undefined(env, &undefined);
  void* rec_data = nullptr;
  void* copy_data = nullptr;
  napi_create_arraybuffer(env, doubles * sizeof(double), &rec_data, &records_ab);
  napi_create_typedarray(env, napi_float64_array, doubles, records_ab, 0, &records);
  if (copied || !shared.empty()) {
    napi_create_array_with_length(env, shared.size() + 1, &buffers);
    napi_value copy = undefined;
    if (copied) napi_create_arraybuffer(env, copied, &copy_data, &copy);
    napi_set_element(env, buffers, 0, copy);
    for (size_t k = 0; k < shared.size(); ++k) napi_set_element(env, buffers, uint32_t(k + 1), ShareArena(env, shared[k]->arena));
  }
  if (failed) napi_create_array_with_length(env, failed, &messages);
  double* rec = static_cast<double*>(rec_data);
  uint8_t* out = static_cast<uint8_t*>(copy_data);
  size_t offset = 0;
  uint32_t m = 0;
  for (auto& r : batch) {
    const bool ok = r->status.ok();
    *rec++ = double(SlotOf(*r));
    *rec++ = double(static_cast<int>(r->status.code()));
    *rec++ = double(r->instance);
    *rec++ = r->start_ns > 0 ? double(r->start_ns - r->enqueue_ns) * 1e-3 : 0;
    *rec++ = r->start_ns > 0 && r->end_ns > r->start_ns ? double(r->end_ns - r->start_ns) * 1e-3 : 0;
    double* count = rec++;
    *count = 0;
    if (!ok) {
      napi_value s;
      napi_create_string_utf8(env, r->status.message().data(), r->status.message().size(), &s);
      napi_set_element(env, messages, m++, s);
      continue;
    }
    for (size_t i = 0; i < r->outputs.size(); ++i) {
      if (!Returns(*r, i)) continue;
      const OutputData& o = r->outputs[i];
      *count += 1;
      *rec++ = double(i);
      *rec++ = double(static_cast<int>(o.dtype));
      *rec++ = double(o.dims.size());
      for (int64_t d : o.dims) *rec++ = double(d);
      const uint32_t index = o.arena ? use_of(o.arena).buffer : 0;
      *rec++ = double(index);
      if (index != 0) {
        *rec++ = double(o.offset);
      } else {
        *rec++ = double(offset);
        if (o.byte_size) std::memcpy(out + offset, o.data(), o.byte_size);
        offset += Aligned(o.byte_size);
      }
      *rec++ = double(o.byte_size);
    }
  }
  for (auto& r : batch) Recycle(std::move(r));  // drops the requests' arena references
  napi_value fn, result;
  napi_get_reference_value(env, on_complete_, &fn);
  napi_value args[3] = {records, buffers ? buffers : undefined, messages ? messages : undefined};
  if (napi_call_function(env, undefined, fn, 3, args, &result) != napi_ok) {
    // The JS side catches its own errors; never let one escape into the thread-safe call.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
}

napi_value CompletionDispatcher::ShareArena(napi_env env, const std::shared_ptr<const OutputArena>& arena) {
  napi_value ab = nullptr;
  if (external_buffers_) {
    // Dropped by the buffer's finalizer on this thread when the buffer is collected.
    auto* hint = new std::shared_ptr<const OutputArena>(arena);
    if (napi_create_external_arraybuffer(env, const_cast<uint8_t*>(arena->data.get()), arena->size, DropArena, hint,
                                         &ab) == napi_ok) {
      return ab;
    }
    // Runtimes with a V8 sandbox refuse external memory: copy instead, from now on.
    delete hint;
    external_buffers_ = false;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  void* data = nullptr;
  napi_create_arraybuffer(env, arena->size, &data, &ab);
  std::memcpy(data, arena->data.get(), arena->size);
  return ab;
}

}  // namespace serval::binding
