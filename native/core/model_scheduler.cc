#include "model_scheduler.h"

#include "clock.h"

namespace serval {

namespace {
constexpr uint32_t kMaxInstances = 64;
}

Status ModelScheduler::Create(Options o, std::unique_ptr<ModelScheduler>* out) {
  if (o.instances.empty() || o.instances.size() > kMaxInstances) {
    return Status(StatusCode::kInvalidArgument, "a model needs 1.." + std::to_string(kMaxInstances) + " instances");
  }
  if (!o.policy || !o.sink || !o.timer || !o.streams) {
    return Status(StatusCode::kInternal, "ModelScheduler::Create: missing dependency");
  }
  if (o.spec.outputs.size() > 64) {
    return Status(StatusCode::kInvalidArgument, "a model may have at most 64 outputs");
  }
  std::unique_ptr<ModelScheduler> s(new ModelScheduler());
  o.batching.max_batch_size = o.spec.max_batch_size;
  s->spec_ = std::make_shared<const ModelSpec>(std::move(o.spec));
  s->batching_ = o.batching;
  s->pool_ = o.streams;
  s->policy_ = std::move(o.policy);
  s->slo_ns_ = o.slo_ns;
  s->admission_ = std::move(o.admission);
  s->stats_ = std::make_shared<ModelStats>(s->spec_->max_batch_size);
  auto counters = std::make_shared<ModelQueueCounters>(std::max<uint32_t>(1, o.batching.priority_levels));
  for (size_t i = 0; i < o.instances.size(); ++i) {
    std::shared_ptr<ExecutionStream> stream;
    Status st = o.streams->Acquire(o.instances[i].kind, o.instances[i].device, &stream);
    if (!st.ok()) return st;  // the destructor returns the streams acquired so far
    s->streams_.push_back(stream);
    DynamicBatcher::Deps deps;
    deps.spec = s->spec_;
    deps.config = o.batching;
    deps.instance_index = static_cast<uint32_t>(i);
    deps.stream = stream;
    deps.sink = o.sink;
    deps.timer = o.timer;
    deps.stats = s->stats_;
    deps.queue_counters = counters;
    deps.admission = s->admission_;
    std::shared_ptr<DynamicBatcher> b;
    st = DynamicBatcher::Create(std::move(deps), &b);
    if (!st.ok()) return st;
    s->batchers_.push_back(std::move(b));
  }
  *out = std::move(s);
  return Status::Ok();
}

ModelScheduler::~ModelScheduler() {
  for (auto& b : batchers_) b->Close(false);
  batchers_.clear();
  for (auto& st : streams_) pool_->Release(std::move(st));
}

Status ModelScheduler::Enqueue(RequestPtr& req, uint32_t* placed) {
  const uint32_t n = static_cast<uint32_t>(batchers_.size());
  const BatchingConfig& config = batchers_[0]->config();
  const int64_t now = NowNs();
  const uint32_t level = ResolvePriorityLevel(config, req->priority_level);
  const int64_t timeout = QueueTimeoutNs(config, level, req->timeout_ns);
  const int64_t slo = req->slo_ns > 0 ? req->slo_ns : slo_ns_;
  const int64_t budget = EffectiveDeadline(now, timeout, slo);
  req->budget_deadline_ns = budget;
  req->enqueue_ns = now;
  const bool admitting = admission_ != nullptr;
  uint32_t chosen = 0;
  InstanceLoad loads[kMaxInstances];
  if (n > 1 || admitting) {
    for (uint32_t i = 0; i < n; ++i) loads[i] = batchers_[i]->Load(now);
  }
  if (n > 1) {
    PlacementQuery q;
    q.batch_size = req->batch_size;
    q.priority = level;
    q.now_ns = now;
    q.deadline_ns = budget;
    q.slo_ns = slo;
    chosen = policy_->Choose(q, loads, n);
    if (chosen >= n) chosen = n - 1;
  }
  if (admitting) {
    AdmissionQuery aq;
    aq.batch_size = req->batch_size;
    aq.priority_level = level;
    aq.priority_levels = config.priority_levels;
    aq.now_ns = now;
    aq.deadline_ns = budget;
    aq.in_flight = stats_->in_flight.load(std::memory_order_relaxed);
    const AdmissionDecision d = admission_->Admit(aq, loads, n, chosen);
    if (d.shed != ShedReason::kNone) {
      stats_->CountShed(d.shed);
      stats_->CountFailure(StatusCode::kShed);
      return Status(StatusCode::kShed, std::string("shed (") + ShedReasonName(d.shed) + ") by admission policy '" +
                                           admission_->name() + "' of model '" + spec_->name + "'");
    }
    if (d.instance >= 0 && uint32_t(d.instance) < n) chosen = uint32_t(d.instance);
    req->predicted_ns = int64_t(PredictFinish(loads[chosen], req->batch_size, now).finish_ns());
  }
  DynamicBatcher& b = *batchers_[chosen];
  Status st = b.Enqueue(req);
  if (st.ok()) {
    b.mutable_counters().placements.fetch_add(1, std::memory_order_relaxed);
    if (placed) *placed = chosen;
  } else {
    stats_->CountFailure(st.code());
  }
  return st;
}

bool ModelScheduler::Cancel(uint32_t instance, uint64_t request_id) {
  if (instance >= batchers_.size()) return false;
  return batchers_[instance]->Cancel(request_id);
}

void ModelScheduler::Close(bool drain) {
  for (auto& b : batchers_) b->Close(drain);
}

bool ModelScheduler::Drained() const {
  for (auto& b : batchers_) if (!b->Drained()) return false;
  return true;
}

uint64_t ModelScheduler::pending() const {
  uint64_t n = 0;
  for (auto& b : batchers_) n += b->counters().queued_requests.load(std::memory_order_relaxed);
  return n;
}

}  // namespace serval
