#include "request_reader.h"

#include <cmath>
#include <string>

#include "js_values.h"
#include "tensor_convert.h"

namespace serval::binding {

namespace {

// Reads header[*pos] as an integer in [lo, hi], advancing *pos; false (with a pending INVALID_ARGUMENT
// TypeError naming `what`) when it is not one. The binding never truncates a request number silently
// (src/model/input-validation.ts checks them first).
bool HeaderInt(Napi::Env env, const RequestHeader& h, size_t* pos, double lo, double hi, const char* what, double* out) {
  if (*pos >= h.length) {
    ThrowInvalidArgument(env, "enqueue: the request header is too short");
    return false;
  }
  const double d = h.data[(*pos)++];
  if (!(d >= lo && d <= hi) || std::trunc(d) != d) {
    ThrowInvalidArgument(env, std::string("enqueue: ") + what + " must be an integer in [" + std::to_string(int64_t(lo)) +
                                  ", " + std::to_string(int64_t(hi)) + "]");
    return false;
  }
  *out = d;
  return true;
}

}  // namespace

Napi::Value EnqueueFromJs(const Napi::CallbackInfo& info, const ModelSpec& spec, ModelScheduler& sched,
                          const RequestHeader& h, CompletionDispatcher& dispatcher, bool foreign,
                          std::vector<size_t>& offsets) {
  Napi::Env env = info.Env();
  const size_t n = spec.inputs.size();
  // Inputs come as arguments, or as one array when the model has several (see model_wrap.h).
  const bool listed = n > 1 && info.Length() == 1 && info[0].IsArray();
  if (!listed && info.Length() != n) {
    ThrowInvalidArgument(env, "enqueue(...inputs): expected " + std::to_string(n) + " inputs");
    return env.Undefined();
  }
  // Deadlines are int64 nanoseconds: 2^53 ns bounds the timeout so the product stays exact and in range.
  constexpr double kMaxSafe = 9007199254740991.0;
  size_t pos = 0;
  double slot = 0, batch_size = 0, priority = 0, timeout_us = 0, id = 0, slo_us = 0;
  if (!HeaderInt(env, h, &pos, 0, 4294967294.0, "slot", &slot) ||
      !HeaderInt(env, h, &pos, 0, 4294967295.0, "batchSize", &batch_size) ||
      !HeaderInt(env, h, &pos, 0, 4294967295.0, "priority", &priority) ||
      !HeaderInt(env, h, &pos, 0, std::floor(kMaxSafe / 1000), "timeoutUs", &timeout_us)) {
    return env.Undefined();
  }
  const double mask = h.data[pos++];
  if (!HeaderInt(env, h, &pos, 0, kMaxSafe, "requestId", &id) ||
      !HeaderInt(env, h, &pos, 0, std::floor(kMaxSafe / 1000), "sloUs", &slo_us)) {
    return env.Undefined();
  }
  RequestPtr req = dispatcher.Acquire();
  req->inputs.resize(n);
  Napi::Array list = listed ? info[0].As<Napi::Array>() : Napi::Array();
  for (size_t i = 0; i < n; ++i) {
    InputData& in = req->inputs[i];
    double rank = 0;
    if (!HeaderInt(env, h, &pos, 0, 64, "rank", &rank)) return env.Undefined();
    in.dims.resize(size_t(rank));
    for (size_t d = 0; d < in.dims.size(); ++d) {
      double v = 0;
      if (!HeaderInt(env, h, &pos, 0, kMaxSafe, "dims", &v)) return env.Undefined();
      in.dims[d] = static_cast<int64_t>(v);
    }
    offsets[i] = SIZE_MAX;
    if (!ReadTensorData(env, listed ? list.Get(uint32_t(i)) : info[i], spec.inputs[i].dtype, &in.data, &in.byte_size,
                        &offsets[i], &req->owned_bytes)) {
      return env.Undefined();
    }
  }
  for (size_t i = 0; i < n; ++i) {
    InputData& in = req->inputs[i];
    if (offsets[i] != SIZE_MAX) in.data = req->owned_bytes.data() + offsets[i];
    const size_t elem = DTypeSize(spec.inputs[i].dtype);
    if (elem && static_cast<int64_t>(in.byte_size) != ElementCount(in.dims) * int64_t(elem)) {
      ThrowInvalidArgument(env, "input '" + spec.inputs[i].name + "' byte length does not match its dims");
      return env.Undefined();
    }
  }
  req->batch_size = static_cast<uint32_t>(batch_size);
  req->priority_level = static_cast<uint32_t>(priority);
  req->timeout_ns = static_cast<int64_t>(timeout_us) * 1000;
  req->slo_ns = static_cast<int64_t>(slo_us) * 1000;
  req->output_mask = mask < 0 || !(mask < 18446744073709551616.0) ? ~0ull : static_cast<uint64_t>(mask);
  req->id = static_cast<uint64_t>(id);
  req->cancellable = id != 0;
  CompletionDispatcher::SetSlot(*req, static_cast<uint32_t>(slot));
  if (foreign) {
    req->sink = &dispatcher;
    dispatcher.HandOut();
  }
  uint32_t instance = 0;
  Status st = sched.Enqueue(req, &instance);
  if (st.ok()) return Napi::Number::New(env, instance);
  // Refused at once (queue full, shed, closed): ownership stayed here; the caller rejects its promise.
  if (foreign) dispatcher.TakeBack();
  dispatcher.Recycle(std::move(req));
  return Refusal(env, st);
}

}  // namespace serval::binding
