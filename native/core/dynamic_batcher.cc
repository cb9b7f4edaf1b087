#include "dynamic_batcher.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <thread>

#include "clock.h"

#include <cmath>

namespace serval {

namespace {

// Idle executors that spin at once, process-wide. Spinning pays only while a core is free for it: with
// the JavaScript thread busy too, at most (cores - 1) executors spin and the rest sleep at once (on the
// 2-core VM: one), so spinning never takes the core the JS thread needs.
std::atomic<int> g_spinning{0};

bool TryStartSpin() {
  static const int limit = std::max(0, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  int n = g_spinning.load(std::memory_order_relaxed);
  while (n < limit) {
    if (g_spinning.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

bool SameSampleShape(const InferenceRequest& a, const InferenceRequest& b, bool batching) {
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const auto& da = a.inputs[i].dims;
    const auto& db = b.inputs[i].dims;
    if (da.size() != db.size()) return false;
    for (size_t d = batching ? 1 : 0; d < da.size(); ++d) {
      if (da[d] != db[d]) return false;
    }
  }
  return true;
}

uint32_t ReadU32LE(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// Byte length of `elements` length-prefixed strings starting at p, or SIZE_MAX if they overrun `avail`.
size_t BytesSpan(const uint8_t* p, size_t avail, int64_t elements) {
  size_t off = 0;
  for (int64_t e = 0; e < elements; ++e) {
    if (avail - off < 4) return SIZE_MAX;
    size_t len = ReadU32LE(p + off);
    if (avail - off - 4 < len) return SIZE_MAX;
    off += 4 + len;
  }
  return off;
}

}  // namespace

Status DynamicBatcher::Create(Deps deps, std::shared_ptr<DynamicBatcher>* out) {
  if (!deps.spec || !deps.stream || !deps.sink || !deps.timer || !deps.stats || !deps.queue_counters) {
    return Status(StatusCode::kInternal, "DynamicBatcher::Create: missing dependency");
  }
  BatchingConfig& c = deps.config;
  if (c.priority_levels == 0) c.priority_levels = 1;
  if (c.default_priority_level == 0 || c.default_priority_level > c.priority_levels) {
    c.default_priority_level = (c.priority_levels + 1) / 2;
  }
  c.queue_policies.resize(c.priority_levels);
  std::sort(c.preferred_batch_sizes.begin(), c.preferred_batch_sizes.end());
  out->reset(new DynamicBatcher(std::move(deps)));
  return Status::Ok();
}

DynamicBatcher::DynamicBatcher(Deps deps)
    : deps_(std::move(deps)),
      queue_(deps_.config.priority_levels),
      staging_(deps_.spec->inputs.size()),
      profile_(std::max<uint32_t>(1, deps_.config.max_batch_size)),
      discipline_(deps_.admission ? deps_.admission->discipline() : QueueDiscipline()) {}

DynamicBatcher::~DynamicBatcher() {
  // Anything still here is completed as closed so no caller waits forever.
  std::vector<RequestPtr> left = queue_.TakeAll();
  if (inflight_) {
    for (auto& r : inflight_->requests) left.push_back(std::move(r));
    inflight_.reset();
  }
  for (auto& r : left) r->status = Status(StatusCode::kClosed, "model instance destroyed");
  if (!left.empty()) DeliverCompletions(deps_.sink, std::move(left));
}

Status DynamicBatcher::Enqueue(RequestPtr& req) {
  const BatchingConfig& c = deps_.config;
  const ModelSpec& spec = *deps_.spec;
  if (req->inputs.size() != spec.inputs.size()) {
    return Status(StatusCode::kInvalidInput, "expected " + std::to_string(spec.inputs.size()) + " inputs, got " +
                                                 std::to_string(req->inputs.size()));
  }
  if (c.max_batch_size > 0 && (req->batch_size == 0 || req->batch_size > c.max_batch_size)) {
    return Status(StatusCode::kInvalidInput, "batch size " + std::to_string(req->batch_size) +
                                                 " is outside 1.." + std::to_string(c.max_batch_size));
  }
  const uint32_t level = ResolvePriorityLevel(c, req->priority_level);
  req->priority_level = level;
  const QueuePolicy& policy = c.queue_policies[level - 1];

  auto& level_count = deps_.queue_counters->per_level[level - 1];
  if (policy.max_queue_size > 0) {
    if (level_count.fetch_add(1, std::memory_order_relaxed) >= policy.max_queue_size) {
      level_count.fetch_sub(1, std::memory_order_relaxed);
      return Status(StatusCode::kQueueFull, "exceeds maximum queue size (" + std::to_string(policy.max_queue_size) +
                                                ") of model '" + spec.name + "' at priority " + std::to_string(level));
    }
  } else {
    level_count.fetch_add(1, std::memory_order_relaxed);
  }

  // The scheduler read the clock when it placed the request: one clock read per request.
  const int64_t now = req->enqueue_ns > 0 ? req->enqueue_ns : NowNs();
  const int64_t timeout = QueueTimeoutNs(c, level, req->timeout_ns);
  req->enqueue_ns = now;
  req->deadline_ns = timeout > 0 ? now + timeout : 0;
  req->budget_deadline_ns = SoonerDeadline(req->budget_deadline_ns, req->deadline_ns);
  req->instance = deps_.instance_index;
  const int64_t deadline = req->deadline_ns;
  const uint32_t samples = req->batch_size;

  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!accepting_) {
      level_count.fetch_sub(1, std::memory_order_relaxed);
      return Status(StatusCode::kClosed, "model '" + spec.name + "' is not accepting requests (unloading or closed)");
    }
    if (req->cancellable) cancellable_.emplace(req->id, req.get());
    queue_.Push(std::move(req));
    deps_.stats->in_flight.fetch_add(1, std::memory_order_relaxed);
    counters_.queued_requests.fetch_add(1, std::memory_order_relaxed);
    counters_.queued_samples.fetch_add(samples, std::memory_order_relaxed);
    NoteFront();
    // Wake a sleeping executor once: later enqueues before it runs need no further notify (syscall).
    wake = executor_waiting_;
    executor_waiting_ = false;
  }
  if (wake) cv_.notify_one();
  if (deadline > 0) deps_.timer->Schedule(deadline, weak_from_this());
  return Status::Ok();
}

RequestPtr DynamicBatcher::Dequeue(InferenceRequest* req) {
  if (req->cancellable) cancellable_.erase(req->id);
  deps_.queue_counters->per_level[req->queue_level - 1].fetch_sub(1, std::memory_order_relaxed);
  counters_.queued_requests.fetch_sub(1, std::memory_order_relaxed);
  counters_.queued_samples.fetch_sub(req->batch_size, std::memory_order_relaxed);
  RequestPtr owned = queue_.Remove(req);
  NoteFront();
  return owned;
}

void DynamicBatcher::NoteFront() {
  const InferenceRequest* front = queue_.Front();
  counters_.oldest_enqueue_ns.store(front ? front->enqueue_ns : 0, std::memory_order_relaxed);
}

namespace {
GateRequest GateOf(const InferenceRequest& r) { return GateRequest{r.enqueue_ns, r.budget_deadline_ns, r.batch_size}; }
}  // namespace

BatchPlan DynamicBatcher::PlanBatch(int64_t now_ns, const QueueGate* gate) const {
  const bool lifo = gate && gate->lifo();
  const InferenceRequest* first = lifo ? queue_.NewestFront() : queue_.Front();
  if (!first) return BatchPlan();
  BatchPlanner planner(deps_.config);
  int64_t min_deadline = 0;
  for (const InferenceRequest* r = first; r; r = lifo ? queue_.NewestAfter(r) : queue_.After(r)) {
    const bool fits = !gate || gate->Fits(GateOf(*r), planner.samples(), &min_deadline);
    if (!planner.Offer(r->batch_size, fits && SameSampleShape(*first, *r, true))) break;
  }
  BatchPlan p = planner.Finish(queue_.Front()->enqueue_ns, now_ns);
  if (!p.ready && gate && gate->DispatchEarly(p.wake_at_ns, p.samples, min_deadline)) p.ready = true;
  return p;
}

void DynamicBatcher::GateQueue(QueueGate& gate, std::vector<RequestPtr>* out) {
  InferenceRequest* next = nullptr;
  for (InferenceRequest* r = queue_.Front(); r; r = next) {
    next = queue_.After(r);
    const ShedReason why = gate.Check(GateOf(*r));
    if (why == ShedReason::kNone) continue;
    const int64_t waited_us = (gate.now() - r->enqueue_ns) / 1000;
    RequestPtr owned = Dequeue(r);
    owned->status = Status(StatusCode::kShed, why == ShedReason::kCodel
                                                  ? "shed (codel): waited " + std::to_string(waited_us) +
                                                        " us in a congested queue"
                                                  : "shed (late): can no longer finish by its deadline after " +
                                                        std::to_string(waited_us) + " us in the queue");
    owned->end_ns = gate.now();
    deps_.stats->CountShed(why);
    out->push_back(std::move(owned));
  }
}

Status DynamicBatcher::EnsureStaging(size_t input, size_t bytes) {
  auto& buf = staging_[input];
  if (buf && buf->capacity() >= bytes) return Status::Ok();
  size_t cap = std::max<size_t>(bytes, buf ? buf->capacity() * 2 : 4096);
  auto next = std::make_shared<StagingBuffer>(deps_.stream, cap, next_buffer_id_++);
  if (next->capacity() < bytes) {
    return Status(StatusCode::kInternal, "cannot allocate " + std::to_string(cap) + " bytes of staging memory");
  }
  buf = std::move(next);
  return Status::Ok();
}

std::unique_ptr<Batch> DynamicBatcher::TakeBatch(const BatchPlan& p, int64_t now_ns, bool lifo) {
  auto batch = std::make_unique<Batch>();
  batch->id = next_batch_id_++;
  batch->samples = p.samples;
  batch->start_ns = now_ns;
  batch->requests.reserve(p.count);
  for (size_t i = 0; i < p.count; ++i) {
    RequestPtr r = Dequeue(lifo ? queue_.NewestFront() : queue_.Front());
    r->start_ns = now_ns;
    batch->output_mask |= r->output_mask;
    batch->requests.push_back(std::move(r));
  }
  const bool batching = deps_.config.max_batch_size > 0;
  const size_t n_inputs = deps_.spec->inputs.size();
  batch->inputs.resize(n_inputs);
  for (size_t i = 0; i < n_inputs; ++i) {
    size_t total = 0;
    for (auto& r : batch->requests) total += r->inputs[i].byte_size;
    BatchInput& in = batch->inputs[i];
    in.dims = batch->requests.front()->inputs[i].dims;
    if (batching && !in.dims.empty()) in.dims[0] = batch->samples;
    in.byte_size = total;
    Status s = EnsureStaging(i, total);
    if (!s.ok()) {
      for (auto& r : batch->requests) r->status = s;
      return batch;  // caller sees the failed status on the requests
    }
    in.buffer = staging_[i];
    // The one copy of each request's input bytes: into the batch's contiguous buffer.
    uint8_t* dst = in.buffer->data();
    for (auto& r : batch->requests) {
      if (r->inputs[i].byte_size) std::memcpy(dst, r->inputs[i].data, r->inputs[i].byte_size);
      dst += r->inputs[i].byte_size;
    }
  }
  return batch;
}

DynamicBatcher::WaitResult DynamicBatcher::NextBatch(int64_t max_wait_ns, const Batch** out) {
  *out = nullptr;
  const int64_t give_up = NowNs() + max_wait_ns;
  std::vector<RequestPtr> failed;
  std::unique_lock<std::mutex> lock(mu_);
  if (inflight_) {
    // The previous batch was never completed (executor bug or restart): fail it rather than leak it.
    for (auto& r : inflight_->requests) {
      r->status = Status(StatusCode::kExecutionFailed, "executor abandoned the batch");
      failed.push_back(std::move(r));
    }
    inflight_.reset();
  }
  WaitResult result = WaitResult::kTimeout;
  bool spin = true;
  while (true) {
    int64_t now = NowNs();
    std::optional<QueueGate> gate;
    if (discipline_.any()) {
      gate.emplace(discipline_, deps_.config, profile_, gate_state_, now, queue_.samples(),
                   counters_.turnaround_ns.load(std::memory_order_relaxed));
      GateQueue(*gate, &failed);
      if (queue_.empty()) QueueGate::NoteEmpty(gate_state_, now);
    }
    if (!queue_.empty()) {
      BatchPlan p = PlanBatch(now, gate ? &*gate : nullptr);
      if (p.ready) {
        auto batch = TakeBatch(p, now, gate && gate->lifo());
        if (queue_.empty()) QueueGate::NoteEmpty(gate_state_, now);
        if (!batch->requests.front()->status.ok()) {
          for (auto& r : batch->requests) failed.push_back(std::move(r));
          continue;
        }
        if (backlog_at_end_ && last_end_ns_ > 0) {
          const int64_t gap = now - last_end_ns_;
          const int64_t old = counters_.turnaround_ns.load(std::memory_order_relaxed);
          counters_.turnaround_ns.store(old + (gap - old) / 10, std::memory_order_relaxed);
        }
        backlog_at_end_ = false;
        counters_.inflight_samples.store(batch->samples, std::memory_order_relaxed);
        counters_.inflight_start_ns.store(now, std::memory_order_relaxed);
        counters_.inflight_predicted_ns.store(static_cast<int64_t>(profile_.PredictNs(batch->samples)),
                                              std::memory_order_relaxed);
        inflight_ = std::move(batch);
        *out = inflight_.get();
        result = WaitResult::kBatch;
        break;
      }
      if (now >= give_up) break;
      executor_waiting_ = true;
      cv_.wait_until(lock, ToTimePoint(std::min(p.wake_at_ns, give_up)));
      executor_waiting_ = false;
      continue;
    }
    if (!accepting_) {
      result = WaitResult::kClosed;
      break;
    }
    if (now >= give_up) break;
    if (spin && deps_.config.idle_spin_ns > 0 && TryStartSpin()) {
      // Idle: poll briefly before sleeping. Waking a sleeping thread costs ~20 us on a VM, more than a
      // small model's execution; a request that arrives within the spin is taken without that wake-up.
      spin = false;
      lock.unlock();
      const int64_t until = std::min(give_up, now + deps_.config.idle_spin_ns);
      while (counters_.queued_requests.load(std::memory_order_relaxed) == 0 && NowNs() < until) {
        std::this_thread::yield();
      }
      g_spinning.fetch_sub(1, std::memory_order_relaxed);
      lock.lock();
      continue;
    }
    executor_waiting_ = true;
    cv_.wait_until(lock, ToTimePoint(give_up));
    executor_waiting_ = false;
  }
  lock.unlock();
  if (!failed.empty()) Finish(std::move(failed));
  return result;
}

Status DynamicBatcher::SplitOutputs(const Batch& batch, const std::vector<OutputView>& outputs) {
  const ModelSpec& spec = *deps_.spec;
  const bool batching = deps_.config.max_batch_size > 0;
  if (outputs.size() != spec.outputs.size()) {
    return Status(StatusCode::kExecutionFailed, "executor returned " + std::to_string(outputs.size()) +
                                                    " outputs, model declares " + std::to_string(spec.outputs.size()));
  }
  // Check every returned output and lay the large ones out in one arena, each at a multiple of 8 bytes so
  // that a request's slice of a fixed-width output stays aligned to its element size.
  std::vector<size_t> base(outputs.size(), SIZE_MAX);  // SIZE_MAX: copied into each request's own bytes
  size_t arena_bytes = 0;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!(batch.output_mask & (1ull << o))) continue;
    const OutputView& v = outputs[o];
    const std::string& name = spec.outputs[o].name;
    if (!v.data && v.byte_size > 0) return Status(StatusCode::kExecutionFailed, "output '" + name + "' missing");
    if (batching && (v.dims.empty() || v.dims[0] != static_cast<int64_t>(batch.samples))) {
      return Status(StatusCode::kExecutionFailed, "output '" + name + "' has batch dimension " +
                                                      (v.dims.empty() ? std::string("none") : std::to_string(v.dims[0])) +
                                                      ", expected " + std::to_string(batch.samples));
    }
    if (v.byte_size < kOutputArenaMinBytes) continue;
    base[o] = arena_bytes;
    arena_bytes += (v.byte_size + 7) & ~size_t(7);
  }
  // The one copy of the outputs on their way to the caller: the executor's memory is only borrowed for
  // this call. Requests (and the JS buffers the binding makes) share the arena instead of copying slices.
  std::shared_ptr<OutputArena> arena;
  if (arena_bytes) arena = std::make_shared<OutputArena>(arena_bytes);
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!(batch.output_mask & (1ull << o)) || base[o] == SIZE_MAX) continue;
    std::memcpy(arena->data.get() + base[o], outputs[o].data, outputs[o].byte_size);
  }
  // `off`: the slice's offset in the batch output.
  auto slice = [&](OutputData& d, size_t o, size_t off, size_t len) {
    const OutputView& v = outputs[o];
    d.dtype = v.dtype;
    d.dims = v.dims;
    d.byte_size = len;
    if (base[o] != SIZE_MAX) {
      d.arena = arena;
      d.offset = base[o] + off;
    } else {
      d.arena.reset();
      d.offset = 0;
      d.bytes.assign(v.data + off, v.data + off + len);
    }
  };
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!(batch.output_mask & (1ull << o))) continue;
    const OutputView& v = outputs[o];
    const std::string& name = spec.outputs[o].name;
    if (!batching) {
      auto& r = batch.requests.front();
      if (r->output_mask & (1ull << o)) slice(r->outputs[o], o, 0, v.byte_size);
      continue;
    }
    const int64_t per_sample = ElementCount(v.dims, 1);
    const size_t elem = DTypeSize(v.dtype);
    size_t off = 0;
    for (auto& r : batch.requests) {
      size_t len;
      if (elem) {
        len = static_cast<size_t>(per_sample) * r->batch_size * elem;
        if (off + len > v.byte_size) return Status(StatusCode::kExecutionFailed, "output '" + name + "' is too short");
      } else {
        len = BytesSpan(v.data + off, v.byte_size - off, per_sample * r->batch_size);
        if (len == SIZE_MAX) return Status(StatusCode::kExecutionFailed, "output '" + name + "' has malformed strings");
      }
      if (r->output_mask & (1ull << o)) {
        OutputData& d = r->outputs[o];
        slice(d, o, off, len);
        d.dims[0] = r->batch_size;
      }
      off += len;
    }
  }
  return Status::Ok();
}

Status DynamicBatcher::CompleteBatch(uint64_t batch_id, const std::vector<OutputView>& outputs) {
  std::unique_ptr<Batch> batch;
  int64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!inflight_ || inflight_->id != batch_id) {
      return Status(StatusCode::kInvalidArgument, "batch " + std::to_string(batch_id) + " is not in flight");
    }
    batch = std::move(inflight_);
    end = last_end_ns_ = NowNs();
    backlog_at_end_ = !queue_.empty();
  }
  for (auto& r : batch->requests) r->outputs.resize(deps_.spec->outputs.size());
  Status split = SplitOutputs(*batch, outputs);
  const int64_t compute_ns = end - batch->start_ns;
  profile_.Observe(batch->samples, static_cast<double>(compute_ns));
  counters_.executions.fetch_add(1, std::memory_order_relaxed);
  counters_.busy_ns.fetch_add(static_cast<uint64_t>(compute_ns), std::memory_order_relaxed);
  RecordBusy(counters_, batch->start_ns, end);
  counters_.inflight_samples.store(0, std::memory_order_relaxed);
  counters_.inflight_predicted_ns.store(0, std::memory_order_relaxed);
  ModelStats& st = *deps_.stats;
  st.execution_count.fetch_add(1, std::memory_order_relaxed);
  st.batch_size.Record(batch->samples);
  st.compute_seconds.Record(compute_ns * 1e-9);
  if (split.ok()) st.inference_count.fetch_add(batch->samples, std::memory_order_relaxed);
  std::vector<RequestPtr> done;
  done.reserve(batch->requests.size());
  for (auto& r : batch->requests) {
    r->end_ns = end;
    if (!split.ok()) {
      r->status = split;
      r->outputs.clear();
    }
    done.push_back(std::move(r));
  }
  Finish(std::move(done));
  return split;
}

void DynamicBatcher::FailInflight(uint64_t batch_id, Status status) {
  std::unique_ptr<Batch> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!inflight_ || (batch_id != 0 && inflight_->id != batch_id)) return;
    batch = std::move(inflight_);
  }
  const int64_t end = NowNs();
  counters_.inflight_samples.store(0, std::memory_order_relaxed);
  counters_.inflight_predicted_ns.store(0, std::memory_order_relaxed);
  counters_.busy_ns.fetch_add(static_cast<uint64_t>(end - batch->start_ns), std::memory_order_relaxed);
  RecordBusy(counters_, batch->start_ns, end);
  std::vector<RequestPtr> done;
  for (auto& r : batch->requests) {
    r->status = status;
    r->end_ns = end;
    done.push_back(std::move(r));
  }
  Finish(std::move(done));
}

bool DynamicBatcher::Cancel(uint64_t request_id) {
  RequestPtr r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cancellable_.find(request_id);
    if (it == cancellable_.end()) return false;
    r = Dequeue(it->second);
  }
  r->status = Status(StatusCode::kCancelled, "request cancelled while queued");
  r->end_ns = NowNs();
  std::vector<RequestPtr> done;
  done.push_back(std::move(r));
  Finish(std::move(done));
  cv_.notify_one();
  return true;
}

void DynamicBatcher::ExpireDue(int64_t now_ns) {
  std::vector<RequestPtr> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (RequestPtr& r : queue_.TakeExpired(now_ns)) {
      // TakeExpired already unlinked them; DELAY ones go back behind their level's other requests.
      InferenceRequest* raw = r.get();
      if (deps_.config.queue_policies[raw->priority_level - 1].delay_on_timeout) {
        raw->deadline_ns = 0;
        raw->expired_delayed = true;
        queue_.Push(std::move(r));
        continue;
      }
      if (raw->cancellable) cancellable_.erase(raw->id);
      deps_.queue_counters->per_level[raw->queue_level - 1].fetch_sub(1, std::memory_order_relaxed);
      counters_.queued_requests.fetch_sub(1, std::memory_order_relaxed);
      counters_.queued_samples.fetch_sub(raw->batch_size, std::memory_order_relaxed);
      raw->status = Status(StatusCode::kTimeout, "request timed out in queue after " +
                                                     std::to_string((now_ns - raw->enqueue_ns) / 1000) + " us");
      raw->end_ns = now_ns;
      expired.push_back(std::move(r));
    }
    NoteFront();
  }
  if (!expired.empty()) {
    Finish(std::move(expired));
    cv_.notify_one();
  }
}

void DynamicBatcher::Close(bool drain) {
  std::vector<RequestPtr> rejected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
    if (!drain) {
      while (InferenceRequest* r = queue_.Front()) {
        RequestPtr owned = Dequeue(r);
        owned->status = Status(StatusCode::kClosed, "model '" + deps_.spec->name + "' closed before the request ran");
        owned->end_ns = NowNs();
        rejected.push_back(std::move(owned));
      }
    }
  }
  cv_.notify_all();
  if (!rejected.empty()) Finish(std::move(rejected));
}

bool DynamicBatcher::Drained() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !accepting_ && queue_.empty() && !inflight_;
}

InstanceLoad DynamicBatcher::Load(int64_t now_ns) const {
  return SnapshotLoad(counters_, profile_, deps_.config, deps_.instance_index, now_ns);
}

void DynamicBatcher::Finish(std::vector<RequestPtr> done) {
  ModelStats& st = *deps_.stats;
  for (auto& r : done) {
    const int64_t latency = r->end_ns - r->enqueue_ns;
    if (r->status.ok()) {
      st.success.fetch_add(1, std::memory_order_relaxed);
      st.queue_seconds.Record((r->start_ns - r->enqueue_ns) * 1e-9);
      st.request_seconds.Record(latency * 1e-9);
      if (r->predicted_ns > 0 && latency > 0) {
        st.prediction_error_sum.fetch_add(std::fabs(double(r->predicted_ns - latency)) / double(latency),
                                          std::memory_order_relaxed);
        st.prediction_error_count.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      st.CountFailure(r->status.code());
    }
    if (deps_.admission) deps_.admission->OnFinish(latency, r->status.ok());
  }
  st.in_flight.fetch_sub(int64_t(done.size()), std::memory_order_relaxed);
  DeliverCompletions(deps_.sink, std::move(done));
}

}  // namespace serval
