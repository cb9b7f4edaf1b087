// Admission: the policy registry, the queue gate (late drops, deadline caps, early dispatch, CoDel,
// adaptive LIFO), the admission policies' decisions, SHED on the live scheduler and batcher, and the
// simulator agreeing with the live batcher on a deterministic case.
#include <algorithm>
#include <set>
#include <thread>

#include "adaptive_concurrency_policy.h"
#include "deadline_admission_policy.h"
#include "model_scheduler.h"
#include "policy_registry.h"
#include "queue_gate.h"
#include "simulator.h"
#include "test_harness.h"
#include "test_support.h"

using namespace serval;
using namespace serval::testing;

namespace {

constexpr int64_t kMs = 1000000;

// A profile following l(b) = base + per_sample * b exactly.
std::unique_ptr<LatencyProfile> AffineProfile(uint32_t max_b, double base_ns, double per_sample_ns) {
  auto p = std::make_unique<LatencyProfile>(max_b);
  for (uint32_t b = 1; b <= max_b; ++b) p->Seed(b, base_ns + per_sample_ns * b);
  return p;
}

BatchingConfig Batching(uint32_t max_b, int64_t delay_ns = 0) {
  BatchingConfig c;
  c.max_batch_size = max_b;
  c.max_queue_delay_ns = delay_ns;
  c.queue_policies.resize(1);
  return c;
}

QueueDiscipline DeadlineDiscipline() { return DeadlineAdmissionPolicy().discipline(); }

InstanceLoad Idle(const LatencyProfile& p, uint32_t index, uint32_t max_b, uint32_t queued = 0) {
  InstanceLoad l;
  l.index = index;
  l.max_batch_size = max_b;
  l.dispatch_samples = 1;
  l.queued_samples = queued;
  l.queued_requests = queued;
  l.profile = &p;
  return l;
}

// A round-robin FloatModel(4) scheduler with one instance, deadline admission and the given SLO.
struct AdmittingScheduler {
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  std::unique_ptr<ModelScheduler> sched;

  explicit AdmittingScheduler(int64_t slo_ns) {
    ModelScheduler::Options o;
    o.spec = FloatModel(4);
    o.instances.resize(1);
    std::unique_ptr<PlacementPolicy> placement;
    CreatePlacementPolicy("round_robin", &placement);
    o.policy = std::move(placement);
    std::unique_ptr<AdmissionPolicy> admission;
    CreateAdmissionPolicy("deadline", AdmissionOptions(), &admission);
    o.admission = std::move(admission);
    o.slo_ns = slo_ns;
    o.sink = &sink;
    o.timer = &timer;
    o.streams = &pool;
    ModelScheduler::Create(std::move(o), &sched);
  }
};

}  // namespace

TEST(registry_lists_every_policy_once_and_creates_each) {
  std::set<std::pair<int, std::string>> seen;
  for (const PolicyEntry& e : PolicyRegistry()) {
    CHECK(seen.insert({int(e.kind), e.name}).second);
    CHECK(std::string(e.description).size() > 10);
    CHECK(std::string(e.decision_cost).size() > 0);
    CHECK((e.placement != nullptr) != (e.admission != nullptr));
    CHECK((e.kind == PolicyKind::kPlacement) == (e.placement != nullptr));
  }
  for (const auto& name : PlacementPolicyNames()) {
    std::unique_ptr<PlacementPolicy> p;
    REQUIRE(CreatePlacementPolicy(name, &p).ok());
  }
  for (const auto& name : AdmissionPolicyNames()) {
    std::unique_ptr<AdmissionPolicy> p;
    REQUIRE(CreateAdmissionPolicy(name, AdmissionOptions(), &p).ok());
    CHECK(std::string(p->name()) == name);
  }
  std::unique_ptr<AdmissionPolicy> a;
  CHECK(CreateAdmissionPolicy("fifo", AdmissionOptions(), &a).code() == StatusCode::kInvalidArgument);
  CHECK(FindPolicy(PolicyKind::kAdmission, "round_robin") == nullptr);
  CHECK(FindPolicy(PolicyKind::kPlacement, "learned:/x/policy.bin") != nullptr);
}

TEST(gate_drops_requests_that_cannot_finish_by_their_deadline_counting_the_queue_ahead) {
  auto p = AffineProfile(4, 10 * kMs, 1 * kMs);  // l(1)=11, l(3)=13, l(4)=14 ms
  BatchingConfig c = Batching(4);
  QueueDiscipline d = DeadlineDiscipline();
  QueueGateState s;
  const int64_t now = 1000 * kMs;
  {
    QueueGate g(d, c, *p, s, now, 3);  // a short queue: 1 + 2 samples, one batch of 3
    CHECK(g.Check({now, now + 13 * kMs, 1}) == ShedReason::kNone);
    CHECK(g.Check({now, now + 12 * kMs + kMs / 2, 2}) == ShedReason::kLate);
  }
  QueueGate g(d, c, *p, s, now, 12);  // a standing queue: batches will be full
  CHECK(g.Check({now, now + 13 * kMs + kMs / 2, 1}) == ShedReason::kLate);  // l(4) = 14 ms, not l(1)
  CHECK(g.Check({now, now + 14 * kMs, 1}) == ShedReason::kNone);
  CHECK(g.Check({now, now + 14 * kMs, 3}) == ShedReason::kNone);
  // The first batch is full: the next one finishes after it, 14 + 14 ms.
  CHECK(g.Check({now, now + 27 * kMs, 1}) == ShedReason::kLate);
  CHECK(g.Check({now, now + 28 * kMs, 1}) == ShedReason::kNone);
  CHECK(g.Check({now, 0, 4}) == ShedReason::kNone);  // no deadline: never dropped
}

TEST(gate_caps_batches_by_the_earliest_deadline_and_dispatches_early) {
  auto p = AffineProfile(8, 10 * kMs, 1 * kMs);
  BatchingConfig c = Batching(8, 5 * kMs);
  QueueDiscipline d = DeadlineDiscipline();
  QueueGateState s;
  const int64_t now = 1000 * kMs;
  QueueGate g(d, c, *p, s, now, 4);  // a short queue: 4 of 8 samples
  int64_t min_deadline = 0;
  CHECK(g.Fits({now, now + 13 * kMs, 1}, 0, &min_deadline));  // the first always fits
  CHECK_EQ(min_deadline, now + 13 * kMs);
  CHECK(g.Fits({now, 0, 2}, 1, &min_deadline));               // l(3) = 13 ms
  CHECK(!g.Fits({now, 0, 1}, 3, &min_deadline));              // l(4) = 14 ms > 13 ms
  CHECK_EQ(min_deadline, now + 13 * kMs);
  // Waiting 5 ms for more would finish a 3-sample batch at 5 + 13 > 13 ms: send now.
  CHECK(g.DispatchEarly(now + 5 * kMs, 3, min_deadline));
  CHECK(!g.DispatchEarly(now + 5 * kMs, 3, now + 100 * kMs));
  CHECK(!g.DispatchEarly(now + 5 * kMs, 3, 0));
  // A standing queue is not capped (its requests were checked against full batches).
  QueueGate standing(d, c, *p, s, now, 8);
  min_deadline = now + 13 * kMs;
  CHECK(standing.Fits({now, 0, 1}, 3, &min_deadline));
  // Without deadline batching nothing is capped.
  QueueDiscipline plain;
  QueueGate none(plain, c, *p, s, now, 1);
  min_deadline = 0;
  CHECK(none.Fits({now, now + 1, 1}, 0, &min_deadline));
  CHECK(none.Fits({now, now + 1, 7}, 1, &min_deadline));
  CHECK(!none.active());
}

TEST(codel_drops_long_waits_only_while_the_queue_stands_and_then_serves_newest_first) {
  auto p = AffineProfile(4, 1 * kMs, 0);
  BatchingConfig c = Batching(4);
  AdmissionOptions o;  // defaults: target 5 ms, interval 100 ms
  std::unique_ptr<AdmissionPolicy> codel;
  REQUIRE(CreateAdmissionPolicy("codel", o, &codel).ok());
  const QueueDiscipline d = codel->discipline();
  CHECK_EQ(d.codel_target_ns, 5 * kMs);
  CHECK_EQ(d.codel_interval_ns, 100 * kMs);
  QueueGateState s;
  int64_t now = 1000 * kMs;
  {
    QueueGate g(d, c, *p, s, now, 0);  // empty queue: not congested
    CHECK(!g.congested());
    CHECK(!g.lifo());
  }
  now += 50 * kMs;
  {
    QueueGate g(d, c, *p, s, now, 1);  // queue standing for 50 ms < interval
    CHECK(!g.congested());
    CHECK(g.Check({now - 20 * kMs, 0, 1}) == ShedReason::kNone);   // 20 ms < interval
    CHECK(g.Check({now - 101 * kMs, 0, 1}) == ShedReason::kCodel);  // past the interval
  }
  now += 60 * kMs;  // standing for 110 ms: congested
  QueueGate g(d, c, *p, s, now, 1);
  CHECK(g.congested());
  CHECK(g.lifo());
  CHECK(g.Check({now - 6 * kMs, 0, 1}) == ShedReason::kCodel);
  CHECK(g.Check({now - 4 * kMs, 0, 1}) == ShedReason::kNone);
  QueueGate::NoteEmpty(s, now);
  QueueGate after(d, c, *p, s, now + 10 * kMs, 1);
  CHECK(!after.congested());
}

TEST(deadline_admission_redirects_to_an_instance_that_makes_it_or_sheds_at_once) {
  auto p = AffineProfile(4, 10 * kMs, 0);  // 10 ms per batch
  InstanceLoad loads[2] = {Idle(*p, 0, 4, 8), Idle(*p, 1, 4, 0)};  // instance 0: two full batches queued
  DeadlineAdmissionPolicy a;
  AdmissionQuery q;
  q.now_ns = 1000 * kMs;
  q.deadline_ns = q.now_ns + 15 * kMs;
  AdmissionDecision d = a.Admit(q, loads, 2, 0);  // placement chose the busy one: 30 ms there
  CHECK(d.shed == ShedReason::kNone);
  CHECK_EQ(d.instance, 1);
  d = a.Admit(q, loads, 2, 1);
  CHECK(d.shed == ShedReason::kNone);
  CHECK_EQ(d.instance, -1);
  q.deadline_ns = q.now_ns + 5 * kMs;  // nobody finishes in 5 ms
  CHECK(a.Admit(q, loads, 2, 1).shed == ShedReason::kDeadline);
  q.deadline_ns = 0;  // no deadline: admitted
  CHECK(a.Admit(q, loads, 2, 0).shed == ShedReason::kNone);
}

TEST(lower_priorities_are_shed_first) {
  auto p = AffineProfile(4, 10 * kMs, 0);
  InstanceLoad load = Idle(*p, 0, 4, 0);
  DeadlineAdmissionPolicy a;
  AdmissionQuery q;
  q.now_ns = 1000 * kMs;
  q.deadline_ns = q.now_ns + 12 * kMs;  // 10 ms predicted
  q.priority_levels = 3;
  q.priority_level = 1;
  CHECK(a.Admit(q, &load, 1, 0).shed == ShedReason::kNone);
  q.priority_level = 2;  // keeps 87.5% of 12 ms = 10.5 ms
  CHECK(a.Admit(q, &load, 1, 0).shed == ShedReason::kNone);
  q.priority_level = 3;  // keeps 75% = 9 ms
  CHECK(a.Admit(q, &load, 1, 0).shed == ShedReason::kDeadline);
  CHECK(PriorityShare(1, 1) == 1.0);
  CHECK(PriorityShare(3, 3) == 1.0 - kPriorityReserve);

  AdmissionOptions o;
  o.initial_limit = 8;
  AdaptiveConcurrencyPolicy c(o);
  AdmissionQuery cq;
  cq.priority_levels = 2;
  cq.in_flight = 6;  // level 2 may use 75% of 8 = 6
  cq.priority_level = 1;
  CHECK(c.Admit(cq, &load, 1, 0).shed == ShedReason::kNone);
  cq.priority_level = 2;
  CHECK(c.Admit(cq, &load, 1, 0).shed == ShedReason::kConcurrency);
  cq.in_flight = 8;
  cq.priority_level = 1;
  CHECK(c.Admit(cq, &load, 1, 0).shed == ShedReason::kConcurrency);
}

TEST(adaptive_concurrency_shrinks_when_latency_rises_and_grows_when_it_holds) {
  AdmissionOptions o;
  o.initial_limit = 100;
  AdaptiveConcurrencyPolicy c(o);
  AdmissionQuery q;
  q.in_flight = 90;  // using the limit
  InstanceLoad dummy;
  c.Admit(q, &dummy, 1, 0);
  for (int i = 0; i < 50; ++i) c.OnFinish(10 * kMs, true);
  const double steady = c.limit();
  CHECK(steady > 100);  // latency holds: grows by about sqrt(limit) per update, smoothed
  for (int i = 0; i < 50; ++i) c.OnFinish(80 * kMs, true);  // latency x8
  CHECK(c.limit() < steady * 0.6);
  const double low = c.limit();
  c.OnFinish(1, false);  // failures carry no latency signal
  CHECK_EQ(c.limit(), low);
}

TEST(live_scheduler_sheds_at_once_with_SHED_and_counts_the_reason) {
  AdmittingScheduler f(10'000 * kMs);  // the model's SLO: 10 s
  REQUIRE(f.sched);
  auto& sched = f.sched;
  auto& sink = f.sink;
  for (uint32_t b = 1; b <= 4; ++b) sched->instance(0)->profile().Seed(b, 100.0 * kMs);  // 100 ms per batch
  RequestPtr fine = FloatRequest(1);
  REQUIRE(sched->Enqueue(fine).ok());  // within the model's 10 s SLO
  RequestPtr hurried = FloatRequest(2);
  hurried->slo_ns = 50 * kMs;  // its own 50 ms objective: cannot make it
  Status st = sched->Enqueue(hurried);
  CHECK(st.code() == StatusCode::kShed);
  CHECK(hurried != nullptr);  // ownership stayed with the caller
  CHECK(st.message().find("deadline") != std::string::npos);
  RequestPtr timed = FloatRequest(3);
  timed->timeout_ns = 20 * kMs;  // a queue timeout is a deadline too
  CHECK(sched->Enqueue(timed).code() == StatusCode::kShed);
  CHECK_EQ(sched->stats().shed[size_t(ShedReason::kDeadline)].load(), uint64_t(2));
  CHECK_EQ(sched->stats().failures[size_t(StatusCode::kShed)].load(), uint64_t(2));
  CHECK_EQ(sched->stats().in_flight.load(), int64_t(1));
  CHECK(sched->admission_name() == "deadline");
  sched->Close(false);  // nothing is lost: the admitted one completes (closed)
  CHECK_EQ(sink.WaitFor(1), size_t(1));
  CHECK_EQ(sched->stats().in_flight.load(), int64_t(0));
}

TEST(live_batcher_drops_queued_requests_that_became_late_before_they_run) {
  ModelSpec spec = FloatModel(4);
  BatchingConfig cfg;
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  std::shared_ptr<ExecutionStream> stream;
  pool.Acquire(StreamKind::kCpu, 0, &stream);
  DynamicBatcher::Deps d;
  cfg.max_batch_size = 4;
  d.spec = std::make_shared<const ModelSpec>(spec);
  d.config = cfg;
  d.stream = stream;
  d.sink = &sink;
  d.timer = &timer;
  d.stats = std::make_shared<ModelStats>(4);
  d.queue_counters = std::make_shared<ModelQueueCounters>(1);
  d.admission = std::make_shared<DeadlineAdmissionPolicy>();
  std::shared_ptr<DynamicBatcher> b;
  REQUIRE(DynamicBatcher::Create(std::move(d), &b).ok());
  for (uint32_t s = 1; s <= 4; ++s) b->profile().Seed(s, 100.0 * kMs);
  const int64_t now = NowNs();
  for (uint64_t id = 1; id <= 6; ++id) {
    RequestPtr r = FloatRequest(id);
    // 1-4 can make a 100 ms batch; 5 and 6 would need the second batch (200 ms) within 150 ms.
    r->budget_deadline_ns = now + (id <= 4 ? 10'000 : 150) * kMs;
    REQUIRE(b->Enqueue(r).ok());
  }
  const Batch* batch = nullptr;
  REQUIRE(b->NextBatch(1000 * kMs, &batch) == DynamicBatcher::WaitResult::kBatch);
  CHECK_EQ(batch->samples, uint32_t(4));
  auto shed = sink.Take();
  CHECK_EQ(shed.size(), size_t(2));
  for (auto& r : shed) {
    CHECK(r->status.code() == StatusCode::kShed);
    CHECK(r->id >= 5);
  }
  std::vector<float> out(4, 0.f);
  OutputView v{DType::kFp32, {4, 1}, reinterpret_cast<const uint8_t*>(out.data()), 16};
  REQUIRE(b->CompleteBatch(batch->id, {v}).ok());
  CHECK_EQ(sink.WaitFor(4), size_t(4));
  b->Close(false);
}

// The simulator and the live batcher, given the same deterministic case (every batch holds its
// instance for l(b) = 120 + 40 b ms while the profile starts from an optimistic 60 + 30 b ms, so some
// admitted requests become late in the queue; requests 1.. arrive while request 0 runs; the model's
// 765 ms SLO as the deadline, deadline admission), shed the same requests, at arrival and from the
// queue, and form the same batches. Every decision is at least 40 ms from its threshold.
TEST(simulator_and_live_batcher_agree_on_admission) {
  const std::vector<uint32_t> sizes = {1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 3, 1};
  const int64_t slo = 765 * kMs;
  auto latency = [](uint32_t b) { return (120.0 + 40.0 * b) * kMs; };
  auto seeded = [](uint32_t b) { return (60.0 + 30.0 * b) * kMs; };
  using Batches = std::vector<std::vector<uint32_t>>;
  // Live.
  Batches live;
  std::set<uint32_t> live_shed;
  uint64_t live_late = 0;
  {
    AdmittingScheduler f(slo);
    REQUIRE(f.sched);
    auto& sched = f.sched;
    auto& sink = f.sink;
    DynamicBatcher& b = *sched->instance(0);
    for (uint32_t s = 1; s <= 4; ++s) b.profile().Seed(s, seeded(s));
    auto run = [&](const Batch* batch) {
      std::vector<uint32_t> ids;
      for (auto& r : batch->requests) ids.push_back(uint32_t(r->id));
      live.push_back(ids);
      const int64_t hold = int64_t(latency(batch->samples)) - (NowNs() - batch->start_ns);
      if (hold > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(hold));
      std::vector<float> out(batch->samples, 0.f);
      OutputView v{DType::kFp32, {int64_t(batch->samples), 1}, reinterpret_cast<const uint8_t*>(out.data()),
                   out.size() * 4};
      b.CompleteBatch(batch->id, {v});
    };
    RequestPtr first = FloatRequest(0, sizes[0]);
    REQUIRE(sched->Enqueue(first).ok());
    const Batch* batch = nullptr;
    REQUIRE(b.NextBatch(1000 * kMs, &batch) == DynamicBatcher::WaitResult::kBatch);
    for (uint32_t i = 1; i < sizes.size(); ++i) {
      RequestPtr r = FloatRequest(i, sizes[i]);
      Status st = sched->Enqueue(r);
      if (st.code() == StatusCode::kShed) live_shed.insert(i);
    }
    run(batch);
    while (b.NextBatch(0, &batch) == DynamicBatcher::WaitResult::kBatch) run(batch);
    for (auto& r : sink.Take()) {
      if (r->status.code() == StatusCode::kShed) live_shed.insert(uint32_t(r->id));
    }
    live_late = sched->stats().shed[size_t(ShedReason::kLate)].load();
    sched->Close(false);
  }
  // Simulated.
  sim::SimModelSpec m;
  m.batching = Batching(4);
  m.slo_ns = slo;
  sim::SimInstanceSpec inst;
  for (uint32_t s = 1; s <= 4; ++s) {
    inst.latency_ns.push_back(latency(s));
    inst.seed_profile_ns.push_back(seeded(s));
  }
  std::unique_ptr<sim::Simulator> simulator;
  REQUIRE(sim::Simulator::Create({m}, {inst}, sim::SimOptions{}, &simulator).ok());
  simulator->RecordBatches(true);
  std::vector<sim::SimArrival> arrivals;
  for (uint32_t i = 0; i < sizes.size(); ++i) arrivals.push_back(sim::SimArrival{i == 0 ? 0 : int64_t(1000 + i), 0, sizes[i]});
  std::unique_ptr<PlacementPolicy> rr;
  CreatePlacementPolicy("round_robin", &rr);
  DeadlineAdmissionPolicy admission;
  sim::SimResult result;
  REQUIRE(simulator->Run(arrivals, {rr.get()}, &result, {&admission}).ok());
  Batches simulated;
  for (auto& fb : simulator->batches()) simulated.push_back(fb.requests);
  std::printf("  live: %zu batches, %zu shed; sim: %zu batches, %llu shed\n", live.size(), live_shed.size(),
              simulated.size(), (unsigned long long)result.shed);
  CHECK(live == simulated);
  CHECK_EQ(uint64_t(live_shed.size()), result.shed);
  CHECK_EQ(live_late, result.shed_by_reason[size_t(ShedReason::kLate)]);
  CHECK_EQ(result.shed_by_reason[size_t(ShedReason::kLate)], uint64_t(4));
  CHECK_EQ(result.shed_by_reason[size_t(ShedReason::kDeadline)], uint64_t(1));
  CHECK_EQ(simulated.size(), size_t(3));
}

TEST_MAIN()
