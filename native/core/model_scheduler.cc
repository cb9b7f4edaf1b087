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

Status ModelScheduler::Enqueue(RequestPtr& req) {
  const uint32_t n = static_cast<uint32_t>(batchers_.size());
  uint32_t chosen = 0;
  if (n > 1) {
    InstanceLoad loads[kMaxInstances];
    const int64_t now = NowNs();
    for (uint32_t i = 0; i < n; ++i) loads[i] = batchers_[i]->Load(now);
    PlacementQuery q;
    q.batch_size = req->batch_size;
    q.priority = req->priority_level;
    q.now_ns = now;
    q.deadline_ns = req->timeout_ns > 0 ? now + req->timeout_ns : 0;
    q.slo_ns = slo_ns_;
    std::shared_ptr<PlacementPolicy> policy;
    {
      std::lock_guard<std::mutex> lock(policy_mu_);
      policy = policy_;
    }
    chosen = policy->Choose(q, loads, n);
    if (chosen >= n) chosen = n - 1;
  }
  DynamicBatcher& b = *batchers_[chosen];
  Status st = b.Enqueue(req);
  if (st.ok()) {
    b.mutable_counters().placements.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_->CountFailure(st.code());
  }
  return st;
}

bool ModelScheduler::Cancel(uint32_t instance, uint64_t request_id) {
  if (instance >= batchers_.size()) return false;
  return batchers_[instance]->Cancel(request_id);
}

void ModelScheduler::SetPolicy(std::shared_ptr<PlacementPolicy> policy) {
  std::lock_guard<std::mutex> lock(policy_mu_);
  retired_fallbacks_ += policy_->fallbacks();
  policy_ = std::move(policy);
}

uint64_t ModelScheduler::policy_fallbacks() const {
  std::lock_guard<std::mutex> lock(policy_mu_);
  return retired_fallbacks_ + policy_->fallbacks();
}

std::string ModelScheduler::policy_name() const {
  std::lock_guard<std::mutex> lock(policy_mu_);
  return policy_->name();
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
