#include "completion_dispatcher.h"

#include <cstring>

#include "tensor_convert.h"

namespace serval::binding {

CompletionDispatcher::CompletionDispatcher(Napi::Env env, Napi::Function make_error) : env_(env) {
  napi_create_reference(env, make_error, 1, &make_error_);
  Napi::Array keys = Napi::Array::New(env);
  keys.Set(0u, "type");
  keys.Set(1u, "dims");
  keys.Set(2u, "data");
  for (uint32_t code = 0; code <= uint32_t(kDTypeMaxCode); ++code) keys.Set(3 + code, DTypeName(static_cast<DType>(code)));
  napi_create_reference(env, keys, 1, &keys_);
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "serval.completions", 0, 1);
  // Pending promises do not keep the process alive by themselves; the executor threads do.
  tsfn_.Unref(env);
}

CompletionDispatcher::~CompletionDispatcher() {
  Shutdown();
  if (make_error_) napi_delete_reference(env_, make_error_);
  if (keys_) napi_delete_reference(env_, keys_);
}

napi_value CompletionDispatcher::Key(napi_env env, napi_value keys, uint32_t which) {
  napi_value v;
  napi_get_element(env, keys, which, &v);
  return v;
}

void CompletionDispatcher::SettleNow(Napi::Env env, InferenceRequest& req) {
  napi_value keys;
  napi_get_reference_value(env, keys_, &keys);
  Settle(env, req, keys);
}

void CompletionDispatcher::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  tsfn_.Release();
}

void CompletionDispatcher::Complete(std::vector<RequestPtr> requests) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;  // the environment is going away; nobody can observe these promises
    for (auto& r : requests) pending_.push_back(std::move(r));
    if (!scheduled_) {
      scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule) {
    tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function) { Drain(env); });
  }
}

void CompletionDispatcher::Drain(Napi::Env env) {
  std::vector<RequestPtr> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
    scheduled_ = false;
  }
  Napi::HandleScope scope(env);
  // One ArrayBuffer for every fixed-width output settled in this pass: an allocation per pass instead
  // of one per output. Slices are 8-byte aligned so every typed-array view is valid.
  size_t total = 0;
  for (auto& r : batch) {
    if (!r->status.ok()) continue;
    for (size_t i = 0; i < r->outputs.size(); ++i) {
      if ((r->output_mask & (1ull << i)) && DTypeSize(r->outputs[i].dtype)) total += (r->outputs[i].bytes.size() + 7) & ~size_t(7);
    }
  }
  napi_value shared = nullptr;
  void* base = nullptr;
  if (total) napi_create_arraybuffer(env, total, &base, &shared);
  size_t offset = 0;
  napi_value keys;
  napi_get_reference_value(env, keys_, &keys);
  for (auto& r : batch) {
    Napi::HandleScope inner(env);
    Settle(env, *r, keys, shared, static_cast<uint8_t*>(base), &offset);
  }
}

void CompletionDispatcher::Settle(Napi::Env env, InferenceRequest& req, napi_value keys, napi_value shared, uint8_t* base,
                                  size_t* offset) {
  auto* ctx = static_cast<JsRequestContext*>(req.user_data);
  if (!ctx) return;
  req.user_data = nullptr;
  if (outstanding_ > 0) --outstanding_;
  if (req.status.ok()) {
    napi_value result;
    napi_create_object(env, &result);
    napi_value names;
    napi_get_reference_value(env, ctx->keys->names, &names);
    const size_t n_names = ctx->keys->spec->outputs.size();
    for (size_t i = 0; i < req.outputs.size() && i < n_names; ++i) {
      if (!(req.output_mask & (1ull << i))) continue;
      const OutputData& o = req.outputs[i];
      napi_value t, type, dims, data, name;
      napi_create_object(env, &t);
      type = Key(env, keys, 3 + static_cast<uint32_t>(o.dtype));
      napi_create_array_with_length(env, o.dims.size(), &dims);
      for (size_t d = 0; d < o.dims.size(); ++d) {
        napi_value n;
        napi_create_int64(env, o.dims[d], &n);
        napi_set_element(env, dims, static_cast<uint32_t>(d), n);
      }
      if (shared && DTypeSize(o.dtype)) {
        std::memcpy(base + *offset, o.bytes.data(), o.bytes.size());
        data = MakeTypedView(env, o.dtype, Napi::ArrayBuffer(env, shared), *offset, o.bytes.size());
        *offset += (o.bytes.size() + 7) & ~size_t(7);
      } else {
        data = MakeTensorData(env, o.dtype, o.bytes.data(), o.bytes.size());
      }
      napi_set_property(env, t, Key(env, keys, 0), type);
      napi_set_property(env, t, Key(env, keys, 1), dims);
      napi_set_property(env, t, Key(env, keys, 2), data);
      napi_get_element(env, names, static_cast<uint32_t>(i), &name);
      napi_set_property(env, result, name, t);
    }
    napi_resolve_deferred(env, ctx->deferred, result);
  } else {
    napi_value fn;
    napi_get_reference_value(env, make_error_, &fn);
    napi_value args[2] = {Napi::String::New(env, StatusCodeName(req.status.code())),
                          Napi::String::New(env, req.status.message())};
    napi_value err;
    if (napi_call_function(env, env.Undefined(), fn, 2, args, &err) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
      }
      err = Napi::Error::New(env, req.status.message()).Value();
    }
    napi_reject_deferred(env, ctx->deferred, err);
  }
  delete ctx;
}

}  // namespace serval::binding
