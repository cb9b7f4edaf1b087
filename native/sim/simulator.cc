#include "simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

#include "batch_planner.h"

namespace serval::sim {

namespace {
constexpr uint32_t kMaxInstancesPerModel = 64;  // as ModelScheduler
}  // namespace

Status Simulator::Create(std::vector<SimModelSpec> models, std::vector<SimInstanceSpec> instances, SimOptions options,
                         std::unique_ptr<Simulator>* out) {
  auto bad = [](const std::string& why) { return Status(StatusCode::kInvalidArgument, why); };
  if (models.empty()) return bad("the simulation needs at least one model");
  std::unique_ptr<Simulator> s(new Simulator());
  s->model_instances_.resize(models.size());
  for (auto& m : models) {
    std::sort(m.batching.preferred_batch_sizes.begin(), m.batching.preferred_batch_sizes.end());
    for (uint32_t p : m.batching.preferred_batch_sizes) {
      if (p == 0 || p > m.batching.max_batch_size) return bad("preferred batch sizes must lie in 1..max_batch_size");
    }
  }
  for (size_t i = 0; i < instances.size(); ++i) {
    SimInstanceSpec& spec = instances[i];
    if (spec.model >= models.size()) return bad("instance " + std::to_string(i) + " names an unknown model");
    const uint32_t max_b = std::max<uint32_t>(1, models[spec.model].batching.max_batch_size);
    if (spec.latency_ns.size() != max_b) {
      return bad("instance " + std::to_string(i) + " needs a latency for each batch size 1.." + std::to_string(max_b));
    }
    for (double v : spec.latency_ns) {
      if (!(v > 0) || !std::isfinite(v)) return bad("instance " + std::to_string(i) + " has a non-positive latency");
    }
    if (!spec.seed_profile_ns.empty() && spec.seed_profile_ns.size() != max_b) {
      return bad("instance " + std::to_string(i) + " seed profile must have one entry per batch size");
    }
    if (!(spec.noise_cv >= 0)) return bad("noise_cv must be >= 0");
    auto in = std::make_unique<Instance>();
    in->spec = std::move(spec);
    in->model = in->spec.model;
    in->index_in_model = uint32_t(s->model_instances_[in->model].size());
    s->model_instances_[in->model].push_back(uint32_t(i));
    s->instances_.push_back(std::move(in));
  }
  for (size_t m = 0; m < models.size(); ++m) {
    const size_t n = s->model_instances_[m].size();
    if (n == 0 || n > kMaxInstancesPerModel) {
      return bad("model " + std::to_string(m) + " needs 1.." + std::to_string(kMaxInstancesPerModel) + " instances");
    }
  }
  s->models_ = std::move(models);
  s->options_ = options;
  *out = std::move(s);
  return Status::Ok();
}

void Simulator::Reset() {
  for (size_t i = 0; i < instances_.size(); ++i) {
    Instance& in = *instances_[i];
    const uint32_t max_b = std::max<uint32_t>(1, models_[in.model].batching.max_batch_size);
    InstanceCounters& c = in.counters;
    for (auto* a : {&c.queued_requests, &c.queued_samples, &c.inflight_samples}) a->store(0);
    for (auto* a : {&c.inflight_start_ns, &c.inflight_predicted_ns, &c.oldest_enqueue_ns, &c.utilisation_at_ns}) a->store(0);
    for (auto* a : {&c.placements, &c.executions, &c.busy_ns, &c.restarts}) a->store(0);
    c.utilisation.store(0.f);
    in.profile = std::make_unique<LatencyProfile>(max_b);
    if (in.spec.seed_profile_ns.empty()) {
      for (uint32_t b = 1; b <= max_b; b = b < max_b && b * 2 > max_b ? max_b : b * 2) {
        in.profile->Seed(b, in.spec.latency_ns[b - 1]);
        if (b == max_b) break;
      }
    } else {
      for (uint32_t b = 1; b <= max_b; ++b) {
        if (in.spec.seed_profile_ns[b - 1] > 0) in.profile->Seed(b, in.spec.seed_profile_ns[b - 1]);
      }
    }
    in.queue.clear();
    in.running.clear();
    in.busy = false;
    in.timer_at_ns = -1;
    in.noise = SimRandom::Fork(options_.seed, i);
    in.placements = 0;
    in.busy_ns = 0;
    in.gate = QueueGateState();
  }
  model_queued_.assign(models_.size(), 0);
  model_in_flight_.assign(models_.size(), 0);
  heap_.clear();
  seq_ = 0;
  batches_ = batch_samples_ = decisions_ = 0;
  formed_.clear();
}

void Simulator::Push(int64_t t, uint32_t kind, uint32_t target) {
  heap_.push_back(Event{t, seq_++, kind, target});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>());
}

Status Simulator::Run(const std::vector<SimArrival>& arrivals, const std::vector<PlacementPolicy*>& policies,
                      SimResult* out, const std::vector<AdmissionPolicy*>& admissions) {
  if (policies.size() != models_.size()) return Status(StatusCode::kInvalidArgument, "one policy per model is needed");
  if (!admissions.empty() && admissions.size() != models_.size()) {
    return Status(StatusCode::kInvalidArgument, "admission policies must be given for every model or none");
  }
  admissions_ = admissions;
  admissions_.resize(models_.size(), nullptr);
  disciplines_.assign(models_.size(), QueueDiscipline());
  for (size_t m = 0; m < models_.size(); ++m) {
    if (admissions_[m]) disciplines_[m] = admissions_[m]->discipline();
  }
  for (auto* p : policies) {
    if (!p) return Status(StatusCode::kInvalidArgument, "a model has no policy");
  }
  for (size_t i = 0; i < arrivals.size(); ++i) {
    if (arrivals[i].model >= models_.size()) return Status(StatusCode::kInvalidArgument, "an arrival names an unknown model");
    if (i && arrivals[i].t_ns < arrivals[i - 1].t_ns) return Status(StatusCode::kInvalidArgument, "arrivals must be in time order");
    const uint32_t max_b = std::max<uint32_t>(1, models_[arrivals[i].model].batching.max_batch_size);
    if (arrivals[i].samples == 0 || arrivals[i].samples > max_b) {
      return Status(StatusCode::kInvalidArgument, "an arrival's samples are outside 1..max_batch_size");
    }
  }
  Reset();
  requests_.assign(arrivals.size(), Request{});
  for (size_t i = 0; i < arrivals.size(); ++i) {
    Request& r = requests_[i];
    r.arrival_ns = arrivals[i].t_ns;
    r.model = arrivals[i].model;
    r.samples = arrivals[i].samples;
    r.state = Request::kQueued;
    r.shed_reason = ShedReason::kNone;
  }
  size_t next = 0;
  int64_t now = 0;
  while (next < arrivals.size() || !heap_.empty()) {
    if (next < arrivals.size() && (heap_.empty() || arrivals[next].t_ns < heap_.front().t_ns)) {
      now = arrivals[next].t_ns;
      Arrive(uint32_t(next), policies[arrivals[next].model], admissions_[arrivals[next].model], now);
      ++next;
      continue;
    }
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<Event>());
    const Event e = heap_.back();
    heap_.pop_back();
    now = e.t_ns;
    switch (e.kind) {
      case kBatchDone:
        FinishBatch(e.target, now);
        break;
      case kTimer: {
        Instance& in = *instances_[e.target];
        if (in.timer_at_ns != e.t_ns) break;  // superseded
        in.timer_at_ns = -1;
        TryDispatch(e.target, now);
        break;
      }
      case kDeadline:
        Expire(e.target, now);
        break;
    }
  }
  last_event_ns_ = now;
  Summarise(out);
  admissions_.clear();
  return Status::Ok();
}

void Simulator::NoteFront(Instance& in) {
  while (!in.queue.empty() && requests_[in.queue.front()].state != Request::kQueued) in.queue.pop_front();
  in.counters.oldest_enqueue_ns.store(in.queue.empty() ? 0 : requests_[in.queue.front()].arrival_ns,
                                      std::memory_order_relaxed);
}

void Simulator::Arrive(uint32_t ri, PlacementPolicy* policy, AdmissionPolicy* admission, int64_t now) {
  Request& r = requests_[ri];
  const SimModelSpec& model = models_[r.model];
  const std::vector<uint32_t>& ids = model_instances_[r.model];
  const uint32_t n = uint32_t(ids.size());
  // The effective deadline, as ModelScheduler::Enqueue computes it.
  const int64_t slo = model.slo_to_policy ? model.slo_ns : 0;
  const int64_t budget = EffectiveDeadline(now, model.queue_timeout_ns, slo);
  r.budget_ns = budget;
  uint32_t chosen = 0;
  if (n > 1 || admission) {
    loads_.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      const Instance& in = *instances_[ids[i]];
      loads_[i] = SnapshotLoad(in.counters, *in.profile, model.batching, i, now);
    }
  }
  if (n > 1) {
    PlacementQuery q;
    q.batch_size = r.samples;
    q.now_ns = now;
    q.deadline_ns = budget;
    q.slo_ns = slo;
    chosen = policy->Choose(q, loads_.data(), n);
    if (chosen >= n) chosen = n - 1;
    ++decisions_;
  }
  if (admission) {
    AdmissionQuery aq;
    aq.batch_size = r.samples;
    aq.now_ns = now;
    aq.deadline_ns = budget;
    aq.in_flight = model_in_flight_[r.model];
    const AdmissionDecision d = admission->Admit(aq, loads_.data(), n, chosen);
    if (d.shed != ShedReason::kNone) {
      r.instance = ids[chosen];
      r.state = Request::kShed;
      r.shed_reason = d.shed;
      r.end_ns = now;
      return;
    }
    if (d.instance >= 0 && uint32_t(d.instance) < n) chosen = uint32_t(d.instance);
  }
  const uint32_t inst = ids[chosen];
  Instance& in = *instances_[inst];
  r.instance = inst;
  if (model.max_queue_size > 0 && model_queued_[r.model] >= model.max_queue_size) {
    r.state = Request::kRejected;
    r.end_ns = now;
    return;
  }
  ++model_queued_[r.model];
  ++model_in_flight_[r.model];
  r.deadline_ns = model.queue_timeout_ns > 0 ? now + model.queue_timeout_ns : 0;
  in.queue.push_back(ri);
  in.counters.queued_requests.fetch_add(1, std::memory_order_relaxed);
  in.counters.queued_samples.fetch_add(r.samples, std::memory_order_relaxed);
  in.counters.placements.fetch_add(1, std::memory_order_relaxed);
  ++in.placements;
  NoteFront(in);
  if (r.deadline_ns > 0) Push(r.deadline_ns, kDeadline, ri);
  TryDispatch(inst, now);
}

void Simulator::TryDispatch(uint32_t inst, int64_t now) {
  Instance& in = *instances_[inst];
  if (in.busy) return;
  NoteFront(in);
  const SimModelSpec& model = models_[in.model];
  const QueueDiscipline& discipline = disciplines_[in.model];
  std::optional<QueueGate> gate;
  if (discipline.any()) {
    gate.emplace(discipline, model.batching, *in.profile, in.gate, now,
                 in.counters.queued_samples.load(std::memory_order_relaxed));
    // Copy: Shed() edits the queue's counters, not the deque (entries are skipped once not queued).
    for (uint32_t ri : in.queue) {
      Request& r = requests_[ri];
      if (r.state != Request::kQueued) continue;
      const ShedReason why = gate->Check(GateRequest{r.arrival_ns, r.budget_ns, r.samples});
      if (why != ShedReason::kNone) Shed(ri, why, now);
    }
    NoteFront(in);
    if (in.queue.empty()) QueueGate::NoteEmpty(in.gate, now);
  }
  if (in.queue.empty()) return;
  const bool lifo = gate && gate->lifo();
  BatchPlanner planner(model.batching);
  int64_t min_deadline = 0;
  auto offer = [&](uint32_t ri) {
    const Request& r = requests_[ri];
    if (r.state != Request::kQueued) return true;
    const GateRequest g{r.arrival_ns, r.budget_ns, r.samples};
    const bool fits = !gate || gate->Fits(g, planner.samples(), &min_deadline);
    return planner.Offer(r.samples, fits);
  };
  if (lifo) {
    for (auto it = in.queue.rbegin(); it != in.queue.rend() && offer(*it); ++it) {}
  } else {
    for (auto it = in.queue.begin(); it != in.queue.end() && offer(*it); ++it) {}
  }
  BatchPlan plan = planner.Finish(requests_[in.queue.front()].arrival_ns, now);
  if (!plan.ready && gate && gate->DispatchEarly(plan.wake_at_ns, plan.samples, min_deadline)) plan.ready = true;
  if (!plan.ready) {
    if (plan.count > 0 && in.timer_at_ns != plan.wake_at_ns) {
      in.timer_at_ns = plan.wake_at_ns;
      Push(plan.wake_at_ns, kTimer, inst);
    }
    return;
  }
  uint32_t samples = 0;
  in.running.clear();
  while (in.running.size() < plan.count && !in.queue.empty()) {
    const uint32_t ri = lifo ? in.queue.back() : in.queue.front();
    if (lifo) in.queue.pop_back(); else in.queue.pop_front();
    Request& r = requests_[ri];
    if (r.state != Request::kQueued) continue;
    r.state = Request::kRunning;
    samples += r.samples;
    in.running.push_back(ri);
    in.counters.queued_requests.fetch_sub(1, std::memory_order_relaxed);
    in.counters.queued_samples.fetch_sub(r.samples, std::memory_order_relaxed);
    --model_queued_[in.model];
  }
  NoteFront(in);
  if (in.queue.empty() && gate) QueueGate::NoteEmpty(in.gate, now);
  if (model.batching.max_batch_size == 0) samples = 1;
  in.busy = true;
  in.batch_start_ns = now;
  in.counters.inflight_samples.store(samples, std::memory_order_relaxed);
  in.counters.inflight_start_ns.store(now, std::memory_order_relaxed);
  in.counters.inflight_predicted_ns.store(int64_t(in.profile->PredictNs(samples)), std::memory_order_relaxed);
  const double mean = in.spec.latency_ns[std::min<size_t>(samples, in.spec.latency_ns.size()) - 1];
  const int64_t run_ns = std::max<int64_t>(1, int64_t(std::llround(mean * in.noise.NoiseFactor(in.spec.noise_cv))));
  Push(now + run_ns, kBatchDone, inst);
  ++batches_;
  batch_samples_ += samples;
  if (record_batches_) formed_.push_back(FormedBatch{inst, now, in.running});
}

void Simulator::FinishBatch(uint32_t inst, int64_t now) {
  Instance& in = *instances_[inst];
  const int64_t compute_ns = now - in.batch_start_ns;
  const uint32_t samples = in.counters.inflight_samples.load(std::memory_order_relaxed);
  if (options_.online_profile) in.profile->Observe(samples, double(compute_ns));
  in.counters.executions.fetch_add(1, std::memory_order_relaxed);
  in.counters.busy_ns.fetch_add(uint64_t(compute_ns), std::memory_order_relaxed);
  in.busy_ns += uint64_t(compute_ns);
  RecordBusy(in.counters, in.batch_start_ns, now);
  in.counters.inflight_samples.store(0, std::memory_order_relaxed);
  in.counters.inflight_predicted_ns.store(0, std::memory_order_relaxed);
  for (uint32_t ri : in.running) {
    requests_[ri].state = Request::kDone;
    requests_[ri].end_ns = now;
    Finished(ri, true);
  }
  in.running.clear();
  in.busy = false;
  TryDispatch(inst, now);
}

void Simulator::Expire(uint32_t ri, int64_t now) {
  Request& r = requests_[ri];
  if (r.state != Request::kQueued) return;
  Instance& in = *instances_[r.instance];
  r.state = Request::kTimedOut;
  r.end_ns = now;
  in.counters.queued_requests.fetch_sub(1, std::memory_order_relaxed);
  in.counters.queued_samples.fetch_sub(r.samples, std::memory_order_relaxed);
  --model_queued_[r.model];
  Finished(ri, false);
  NoteFront(in);
  TryDispatch(r.instance, now);
}

void Simulator::Shed(uint32_t ri, ShedReason why, int64_t now) {
  Request& r = requests_[ri];
  Instance& in = *instances_[r.instance];
  r.state = Request::kShed;
  r.shed_reason = why;
  r.end_ns = now;
  in.counters.queued_requests.fetch_sub(1, std::memory_order_relaxed);
  in.counters.queued_samples.fetch_sub(r.samples, std::memory_order_relaxed);
  --model_queued_[r.model];
  Finished(ri, false);
}

void Simulator::Finished(uint32_t ri, bool ok) {
  const Request& r = requests_[ri];
  --model_in_flight_[r.model];
  if (AdmissionPolicy* a = admissions_[r.model]) a->OnFinish(r.end_ns - r.arrival_ns, ok);
}

void Simulator::Summarise(SimResult* out) const {
  SimResult s;
  s.shed_by_reason.assign(kShedReasonCount, 0);
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> lat;
  lat.reserve(requests_.size());
  int64_t first = -1, last = 0;
  double ok_sum = 0, norm_sum = 0;
  const double cap = options_.norm_latency_cap;
  for (const Request& r : requests_) {
    if (r.arrival_ns < options_.warmup_ns) continue;
    if (first < 0) first = r.arrival_ns;
    last = r.arrival_ns;
    ++s.arrivals;
    const int64_t slo = models_[r.model].slo_ns;
    double l = inf;
    if (r.state == Request::kDone) {
      l = double(r.end_ns - r.arrival_ns + options_.decision_ns + options_.overhead_ns);
      ++s.ok;
      ok_sum += l;
      if (slo <= 0 || l <= double(slo)) ++s.within_slo;
      if (slo > 0) norm_sum += std::min(cap, l / double(slo));
    } else {
      if (r.state == Request::kTimedOut) ++s.timeouts;
      if (r.state == Request::kRejected) ++s.rejected;
      if (r.state == Request::kShed) {
        ++s.shed;
        ++s.shed_by_reason[size_t(r.shed_reason)];
      }
      norm_sum += cap;
    }
    lat.push_back(l);
    if (options_.keep_latencies) s.latencies_ns.push_back(std::isfinite(l) ? l : -1.0);
  }
  const double start = double(std::max<int64_t>(options_.warmup_ns, first < 0 ? 0 : first));
  s.span_s = std::max(1e-9, (double(last) - start) * 1e-9);
  if (s.arrivals) {
    s.attainment = double(s.within_slo) / double(s.arrivals);
    s.mean_norm_latency = norm_sum / double(s.arrivals);
    auto rank = [&](double p) {
      size_t k = size_t(std::ceil(p * double(lat.size())));
      k = std::clamp<size_t>(k, 1, lat.size()) - 1;
      std::nth_element(lat.begin(), lat.begin() + k, lat.end());
      return lat[k];
    };
    s.p50_ns = rank(0.50);
    s.p95_ns = rank(0.95);
    s.p99_ns = rank(0.99);
  }
  s.mean_ok_ns = s.ok ? ok_sum / double(s.ok) : 0;
  s.goodput = double(s.within_slo) / s.span_s;
  s.throughput = double(s.ok) / s.span_s;
  s.batches = batches_;
  s.mean_batch = batches_ ? double(batch_samples_) / double(batches_) : 0;
  s.decisions = decisions_;
  const double run_ns = std::max(1.0, double(last_event_ns_ - (requests_.empty() ? 0 : requests_.front().arrival_ns)));
  for (const auto& in : instances_) {
    s.placements.push_back(in->placements);
    s.busy_fraction.push_back(double(in->busy_ns) / run_ns);
  }
  *out = std::move(s);
}

}  // namespace serval::sim
