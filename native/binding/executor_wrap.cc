#include "executor_wrap.h"

#include "core/instance_registry.h"
#include "js_values.h"
#include "tensor_convert.h"

namespace serval::binding {

Napi::Function ExecutorWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeExecutor",
                     {InstanceMethod<&ExecutorWrap::Next>("next"),
                      InstanceMethod<&ExecutorWrap::Complete>("complete"),
                      InstanceMethod<&ExecutorWrap::Fail>("fail")});
}

ExecutorWrap::ExecutorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExecutorWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowInvalidArgument(env, "NativeExecutor(token: number)");
    return;
  }
  batcher_ = InstanceRegistry::Find(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  if (!batcher_) {
    ThrowStatus(env, Status(StatusCode::kModelUnavailable, "unknown or unloaded model instance"));
    return;
  }
  cached_ids_.assign(batcher_->spec().inputs.size(), 0);
  cached_buffers_.resize(batcher_->spec().inputs.size());
}

ExecutorWrap::~ExecutorWrap() {
  // A worker torn down mid-batch (crash, terminate): fail only that batch.
  if (batcher_ && inflight_id_) {
    batcher_->FailInflight(inflight_id_, Status(StatusCode::kExecutionFailed, "executor thread exited mid-batch"));
  }
}

Napi::ArrayBuffer ExecutorWrap::StagingArrayBuffer(Napi::Env env, size_t input, const std::shared_ptr<StagingBuffer>& buf) {
  if (cached_ids_[input] == buf->id() && !cached_buffers_[input].IsEmpty()) return cached_buffers_[input].Value();
  // The ArrayBuffer holds its own reference to the staging memory until V8 collects it.
  auto* hold = new std::shared_ptr<StagingBuffer>(buf);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, buf->data(), buf->capacity(), [](Napi::Env, void*, std::shared_ptr<StagingBuffer>* h) { delete h; }, hold);
  cached_ids_[input] = buf->id();
  cached_buffers_[input] = Napi::Persistent(ab);
  return ab;
}

Napi::Value ExecutorWrap::Next(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!batcher_) return Napi::Boolean::New(env, false);
  double wait_ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 100;
  const Batch* batch = nullptr;
  auto res = batcher_->NextBatch(static_cast<int64_t>(wait_ms * 1e6), &batch);
  if (res == DynamicBatcher::WaitResult::kClosed) return Napi::Boolean::New(env, false);
  if (res == DynamicBatcher::WaitResult::kTimeout) return env.Null();
  inflight_id_ = batch->id;
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", double(batch->id));
  out.Set("samples", double(batch->samples));
  // Only the model's outputs, so the mask is exact as a double.
  const size_t n_out = batcher_->spec().outputs.size();
  uint64_t mask = n_out >= 64 ? batch->output_mask : batch->output_mask & ((1ull << n_out) - 1);
  out.Set("outputMask", double(mask));
  const auto& specs = batcher_->spec().inputs;
  Napi::Array inputs = Napi::Array::New(env, batch->inputs.size());
  for (size_t i = 0; i < batch->inputs.size(); ++i) {
    const BatchInput& in = batch->inputs[i];
    Napi::Object t = Napi::Object::New(env);
    if (specs[i].dtype == DType::kBytes) {
      t.Set("data", ReadStrings(env, in.buffer->data(), in.byte_size));
    } else {
      t.Set("data", MakeTypedView(env, specs[i].dtype, StagingArrayBuffer(env, i, in.buffer), 0, in.byte_size));
    }
    t.Set("dims", DimsToArray(env, in.dims));
    inputs.Set(uint32_t(i), t);
  }
  out.Set("inputs", inputs);
  return out;
}

Napi::Value ExecutorWrap::Complete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!batcher_ || info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    ThrowInvalidArgument(env, "complete(id: number, outputs: array)");
    return env.Undefined();
  }
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  Napi::Array arr = info[1].As<Napi::Array>();
  const auto& specs = batcher_->spec().outputs;
  std::vector<OutputView> views(specs.size());
  std::vector<std::vector<uint8_t>> string_storage(specs.size());
  std::string error;
  for (size_t o = 0; o < specs.size() && error.empty(); ++o) {
    Napi::Value v = o < arr.Length() ? arr.Get(uint32_t(o)) : env.Undefined();
    if (!v.IsObject()) continue;  // not produced (not requested by anyone in the batch)
    Napi::Object t = v.As<Napi::Object>();
    OutputView& view = views[o];
    view.dtype = specs[o].dtype;
    if (!ArrayToDims(env, t.Get("dims"), &view.dims)) return env.Undefined();
    Napi::Value data = t.Get("data");
    if (specs[o].dtype == DType::kBytes) {
      if (!data.IsArray() || !WriteStrings(env, data.As<Napi::Array>(), &string_storage[o])) {
        if (env.IsExceptionPending()) return env.Undefined();
        error = "output '" + specs[o].name + "' must be a string array";
        break;
      }
      view.data = string_storage[o].data();
      view.byte_size = string_storage[o].size();
    } else if (data.IsTypedArray()) {
      auto ta = data.As<Napi::TypedArray>();
      view.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      view.byte_size = ta.ByteLength();
    } else {
      error = "output '" + specs[o].name + "' data is not a typed array";
    }
  }
  if (!error.empty()) {
    const Status failed(StatusCode::kExecutionFailed, error);
    batcher_->FailInflight(id, failed);
    inflight_id_ = 0;
    return Refusal(env, failed);
  }
  // A batch whose outputs do not split fails its requests with the reason, and the caller hears it too.
  const Status st = batcher_->CompleteBatch(id, views);
  inflight_id_ = 0;
  return st.ok() ? env.Undefined() : Refusal(env, st);
}

Napi::Value ExecutorWrap::Fail(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!batcher_ || info.Length() < 1 || !info[0].IsNumber()) return env.Undefined();
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  std::string msg = info.Length() > 1 ? info[1].ToString().Utf8Value() : "execution failed";
  batcher_->FailInflight(id, Status(StatusCode::kExecutionFailed, msg));
  inflight_id_ = 0;
  return env.Undefined();
}

}  // namespace serval::binding
