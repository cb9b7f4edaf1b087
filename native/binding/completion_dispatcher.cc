#include "completion_dispatcher.h"

#include "tensor_convert.h"

namespace serval::binding {

CompletionDispatcher::CompletionDispatcher(Napi::Env env, Napi::Function make_error) : env_(env) {
  napi_create_reference(env, make_error, 1, &make_error_);
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "serval.completions", 0, 1);
  // Pending promises do not keep the process alive by themselves; the executor threads do.
  tsfn_.Unref(env);
}

CompletionDispatcher::~CompletionDispatcher() {
  Shutdown();
  if (make_error_) napi_delete_reference(env_, make_error_);
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
  for (auto& r : batch) {
    Napi::HandleScope inner(env);
    Settle(env, *r);
  }
}

void CompletionDispatcher::Settle(Napi::Env env, InferenceRequest& req) {
  auto* ctx = static_cast<JsRequestContext*>(req.user_data);
  if (!ctx) return;
  req.user_data = nullptr;
  if (outstanding_ > 0) --outstanding_;
  for (napi_ref ref : ctx->keepalive) napi_delete_reference(env, ref);
  if (req.status.ok()) {
    Napi::Object result = Napi::Object::New(env);
    const auto& outs = ctx->spec->outputs;
    for (size_t i = 0; i < req.outputs.size() && i < outs.size(); ++i) {
      if (!(req.output_mask & (1ull << i))) continue;
      const OutputData& o = req.outputs[i];
      Napi::Object t = Napi::Object::New(env);
      t.Set("type", Napi::String::New(env, DTypeName(o.dtype)));
      t.Set("dims", DimsToArray(env, o.dims));
      t.Set("data", MakeTensorData(env, o.dtype, o.bytes.data(), o.bytes.size()));
      result.Set(outs[i].name, t);
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
