// Simulator: the same batches as the live DynamicBatcher, queue semantics, metrics, determinism, and
// the policies behaving as expected in simulated time.
#include <memory>
#include <thread>

#include "arrival_process.h"
#include "behaviour_cloning.h"
#include "decision_recorder.h"
#include "learned_policy.h"
#include "simulator.h"
#include "test_harness.h"
#include "test_support.h"

using namespace serval;
using namespace serval::sim;
using namespace serval::testing;

namespace {

constexpr int64_t kMs = 1000000;

using Batches = std::vector<std::vector<uint32_t>>;

// Live: request 0 is enqueued alone and taken; requests 1.. are enqueued while it runs; then batches
// are taken and executed one after another. Returns the request ids of each batch.
Batches LiveBatches(uint32_t max_batch, BatchingConfig cfg, const std::vector<uint32_t>& sizes) {
  BatcherFixture f(FloatModel(max_batch), cfg);
  Batches out;
  REQUIRE(f.Enqueue(FloatRequest(0, sizes[0])).ok());
  const Batch* b = nullptr;
  REQUIRE(f.batcher->NextBatch(5000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
  auto take = [&](const Batch* batch) {
    std::vector<uint32_t> ids;
    for (auto& r : batch->requests) ids.push_back(uint32_t(r->id));
    out.push_back(ids);
  };
  take(b);
  for (uint32_t i = 1; i < sizes.size(); ++i) REQUIRE(f.Enqueue(FloatRequest(i, sizes[i])).ok());
  f.Execute(b);
  size_t done = out.back().size();
  while (done < sizes.size()) {
    REQUIRE(f.batcher->NextBatch(5000 * kMs, &b) == DynamicBatcher::WaitResult::kBatch);
    take(b);
    done += out.back().size();
    f.Execute(b);
  }
  return out;
}

// Simulated: the same sequence, each batch taking 1 s, requests 1.. arriving while batch 0 runs.
Batches SimBatches(uint32_t max_batch, BatchingConfig cfg, const std::vector<uint32_t>& sizes) {
  SimModelSpec m;
  cfg.max_batch_size = max_batch;
  m.batching = cfg;
  SimInstanceSpec inst;
  inst.latency_ns.assign(std::max<uint32_t>(1, max_batch), 1e9);
  std::unique_ptr<Simulator> sim;
  REQUIRE(Simulator::Create({m}, {inst}, SimOptions{}, &sim).ok());
  sim->RecordBatches(true);
  std::vector<SimArrival> arrivals;
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    SimArrival a;
    a.t_ns = i == 0 ? 0 : cfg.max_queue_delay_ns + 1000 + i;
    a.samples = sizes[i];
    arrivals.push_back(a);
  }
  std::unique_ptr<PlacementPolicy> policy;
  CreatePlacementPolicy("round_robin", &policy);
  SimResult r;
  REQUIRE(sim->Run(arrivals, {policy.get()}, &r).ok());
  Batches out;
  for (auto& b : sim->batches()) out.push_back(b.requests);
  return out;
}

BatchingConfig Cfg(int64_t delay_ns, std::vector<uint32_t> preferred = {}) {
  BatchingConfig c;
  c.max_queue_delay_ns = delay_ns;
  c.preferred_batch_sizes = std::move(preferred);
  return c;
}

void CheckSameBatches(uint32_t max_batch, BatchingConfig cfg, const std::vector<uint32_t>& sizes) {
  Batches live = LiveBatches(max_batch, cfg, sizes);
  Batches sim = SimBatches(max_batch, cfg, sizes);
  CHECK_EQ(live.size(), sim.size());
  CHECK(live == sim);
}

SimInstanceSpec Flat(uint32_t model, uint32_t max_batch, double ns_per_batch, double per_sample = 0) {
  SimInstanceSpec s;
  s.model = model;
  for (uint32_t b = 1; b <= std::max<uint32_t>(1, max_batch); ++b) s.latency_ns.push_back(ns_per_batch + per_sample * b);
  return s;
}

}  // namespace

TEST(forms_the_same_batches_as_the_live_batcher_without_delay) {
  CheckSameBatches(4, Cfg(0), {1, 2, 1, 3, 1, 1, 4, 2, 1});
}

TEST(forms_the_same_batches_as_the_live_batcher_with_preferred_sizes) {
  CheckSameBatches(8, Cfg(20 * kMs, {2, 4}), {1, 1, 1, 1, 1, 3, 1, 2, 2, 1});
}

TEST(forms_the_same_batches_as_the_live_batcher_with_delay_only) {
  CheckSameBatches(6, Cfg(20 * kMs), {2, 3, 2, 2, 1, 5, 1});
}

TEST(forms_the_same_batches_as_the_live_batcher_without_batching) {
  CheckSameBatches(0, Cfg(0), {1, 1, 1, 1});
}

TEST(a_lone_request_waits_for_the_max_queue_delay) {
  SimModelSpec m;
  m.batching = Cfg(3 * kMs);
  m.batching.max_batch_size = 8;
  std::unique_ptr<Simulator> sim;
  REQUIRE(Simulator::Create({m}, {Flat(0, 8, 1 * kMs)}, SimOptions{.keep_latencies = true}, &sim).ok());
  std::unique_ptr<PlacementPolicy> p;
  CreatePlacementPolicy("round_robin", &p);
  SimResult r;
  REQUIRE(sim->Run({SimArrival{0, 0, 1}}, {p.get()}, &r).ok());
  REQUIRE(r.latencies_ns.size() == 1);
  CHECK(r.latencies_ns[0] == 4 * kMs);  // 3 ms delay + 1 ms execution
}

TEST(queue_timeouts_and_queue_limits_fail_requests) {
  SimModelSpec m;
  m.batching.max_batch_size = 1;
  m.queue_timeout_ns = 5 * kMs;
  m.max_queue_size = 3;
  m.slo_ns = 100 * kMs;
  std::unique_ptr<Simulator> sim;
  REQUIRE(Simulator::Create({m}, {Flat(0, 1, 2 * kMs)}, SimOptions{}, &sim).ok());
  std::unique_ptr<PlacementPolicy> p;
  CreatePlacementPolicy("round_robin", &p);
  // 6 requests at once: one runs, 3 queue (2 of them time out at 5 ms), 2 are rejected.
  std::vector<SimArrival> a(6);
  SimResult r;
  REQUIRE(sim->Run(a, {p.get()}, &r).ok());
  CHECK_EQ(r.arrivals, uint64_t(6));
  CHECK_EQ(r.rejected, uint64_t(2));
  CHECK_EQ(r.timeouts, uint64_t(1));  // runs at 0, 2, 4 ms; the third queued one would start at 6 ms
  CHECK_EQ(r.ok, uint64_t(3));
  CHECK(r.attainment == 0.5);
  CHECK(std::isinf(r.p99_ns));
}

TEST(same_seed_same_result_and_metrics_are_consistent) {
  ArrivalSpec spec;
  spec.kind = ArrivalSpec::Kind::kGamma;
  spec.cv = 3;
  spec.rate = 1500;
  spec.duration_s = 4;
  spec.seed = 11;
  std::vector<SimArrival> arrivals;
  REQUIRE(GenerateArrivals(spec, &arrivals).ok());
  CHECK(arrivals.size() > 5000 && arrivals.size() < 7000);
  SimModelSpec m;
  m.batching = Cfg(200000, {4});
  m.batching.max_batch_size = 16;
  m.slo_ns = 10 * kMs;
  std::vector<SimInstanceSpec> inst = {Flat(0, 16, 1 * kMs, 50000), Flat(0, 16, 2 * kMs, 100000)};
  inst[0].noise_cv = inst[1].noise_cv = 0.1;
  SimResult a, b;
  for (SimResult* r : {&a, &b}) {
    std::unique_ptr<Simulator> sim;
    REQUIRE(Simulator::Create({m}, inst, SimOptions{.seed = 5}, &sim).ok());
    std::unique_ptr<PlacementPolicy> p;
    CreatePlacementPolicy("earliest_finish_time", &p);
    REQUIRE(sim->Run(arrivals, {p.get()}, r).ok());
  }
  CHECK(a.p99_ns == b.p99_ns);
  CHECK(a.within_slo == b.within_slo);
  CHECK_EQ(a.arrivals, uint64_t(arrivals.size()));
  CHECK(a.p50_ns <= a.p95_ns && a.p95_ns <= a.p99_ns);
  CHECK(a.mean_batch >= 1);
  CHECK_EQ(a.placements[0] + a.placements[1], uint64_t(arrivals.size()));
}

TEST(round_robin_overloads_a_slow_instance_that_eft_avoids) {
  // Speeds 1x and 4x slower, no batching, offered load 60% of the total capacity: round robin sends
  // half the traffic to the slow instance (120% of its capacity), EFT does not.
  SimModelSpec m;
  m.batching.max_batch_size = 1;
  m.slo_ns = 20 * kMs;
  std::vector<SimInstanceSpec> inst = {Flat(0, 1, 1 * kMs), Flat(0, 1, 4 * kMs)};
  ArrivalSpec spec;
  spec.rate = 0.6 * (1000 + 250);
  spec.duration_s = 20;
  spec.seed = 3;
  std::vector<SimArrival> arrivals;
  REQUIRE(GenerateArrivals(spec, &arrivals).ok());
  auto run = [&](const char* name) {
    std::unique_ptr<Simulator> sim;
    Simulator::Create({m}, inst, SimOptions{}, &sim);
    std::unique_ptr<PlacementPolicy> p;
    CreatePlacementPolicy(name, &p);
    SimResult r;
    sim->Run(arrivals, {p.get()}, &r);
    return r;
  };
  SimResult rr = run("round_robin"), eft = run("earliest_finish_time"), wrr = run("weighted_round_robin");
  CHECK(rr.attainment < 0.6);
  CHECK(eft.attainment > 0.97);
  CHECK(wrr.attainment > 0.9);
}

TEST(arrival_processes_have_the_requested_rate_and_mix) {
  for (const char* kind : {"poisson", "gamma:4", "mmpp", "constant"}) {
    ArrivalSpec spec;
    REQUIRE(ParseArrivalKind(kind, &spec).ok());
    spec.rate = 1000;
    spec.duration_s = 60;
    spec.model_weights = {3, 1};
    spec.seed = 2;
    std::vector<SimArrival> a;
    REQUIRE(GenerateArrivals(spec, &a).ok());
    const double rate = double(a.size()) / 60.0;
    CHECK(rate > 850 && rate < 1150);
    size_t m0 = 0;
    for (auto& x : a) m0 += x.model == 0;
    CHECK(std::abs(double(m0) / a.size() - 0.75) < 0.02);
  }
  ArrivalSpec spec;
  CHECK(ParseArrivalKind("gamma", &spec).code() == StatusCode::kInvalidArgument);
  CHECK(ParseArrivalKind("mmpp:peak=20,on=1,off=1", &spec).code() == StatusCode::kInvalidArgument);
  CHECK(ParseArrivalKind("uniform", &spec).code() == StatusCode::kInvalidArgument);
}

TEST(recorded_decisions_clone_the_teacher) {
  SimModelSpec m;
  m.batching = Cfg(300000, {4});
  m.batching.max_batch_size = 8;
  m.slo_ns = 15 * kMs;
  std::vector<SimInstanceSpec> inst = {Flat(0, 8, 1 * kMs, 100000), Flat(0, 8, 1 * kMs, 100000),
                                       Flat(0, 8, 3 * kMs, 300000)};
  ArrivalSpec spec;
  spec.kind = ArrivalSpec::Kind::kGamma;
  spec.cv = 2;
  spec.rate = 2000;
  spec.duration_s = 5;
  std::vector<SimArrival> arrivals;
  REQUIRE(GenerateArrivals(spec, &arrivals).ok());
  std::unique_ptr<Simulator> sim;
  REQUIRE(Simulator::Create({m}, inst, SimOptions{}, &sim).ok());
  std::unique_ptr<PlacementPolicy> eft;
  CreatePlacementPolicy("earliest_finish_time", &eft);
  DecisionDataset data;
  DecisionRecorder recorder(eft.get(), eft.get(), &data);
  SimResult r;
  REQUIRE(sim->Run(arrivals, {&recorder}, &r).ok());
  CHECK_EQ(data.decisions(), arrivals.size());
  CHECK_EQ(data.rows(), 3 * arrivals.size());
  auto w = std::make_shared<PolicyWeights>();
  FitStandardisation(data, w.get());
  FitEnvelope(data, 0.25, w.get());
  w->max_error_ewma = 1e9f;
  BcReport report;
  REQUIRE(TrainBehaviourCloning(data, BcOptions{.epochs = 3}, w.get(), &report).ok());
  CHECK(report.loss.back() < report.loss.front());
  const double acc = ImitationAccuracy(data, *w);
  CHECK(acc > 0.85);
  // Deterministic for a seed.
  auto w2 = std::make_shared<PolicyWeights>(*w);
  BcReport report2;
  REQUIRE(TrainBehaviourCloning(data, BcOptions{.epochs = 3}, w2.get(), &report2).ok());
  CHECK(std::memcmp(w->w1, w2->w1, sizeof(w->w1)) == 0);
  // The clone, placed in the simulator, does about as well as its teacher.
  LearnedPolicy learned(w, "learned:clone");
  SimResult lr;
  REQUIRE(sim->Run(arrivals, {&learned}, &lr).ok());
  CHECK(lr.attainment > r.attainment - 0.05);
}

TEST_MAIN()
