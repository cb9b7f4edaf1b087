// ModelScheduler: placement across instances, stats, stream pool reuse, end-to-end with executors.
#include <atomic>
#include <thread>

#include "instance_registry.h"
#include "model_scheduler.h"
#include "test_harness.h"
#include "test_support.h"

using namespace serval;
using namespace serval::testing;

namespace {
// Options for a round-robin FloatModel(max_batch) scheduler with `instances` CPU instances.
ModelScheduler::Options BasicOptions(CollectingSink& sink, DeadlineTimer& timer, StreamPool& pool, uint32_t instances,
                                     const std::string& policy = "round_robin", uint32_t max_batch = 4) {
  ModelScheduler::Options o;
  o.spec = FloatModel(max_batch);
  o.instances.resize(instances);
  std::unique_ptr<PlacementPolicy> p;
  CreatePlacementPolicy(policy, &p);
  o.policy = std::move(p);
  o.sink = &sink;
  o.timer = &timer;
  o.streams = &pool;
  return o;
}

struct SchedulerFixture {
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  std::unique_ptr<ModelScheduler> sched;

  SchedulerFixture(uint32_t instances, const std::string& policy, uint32_t max_batch = 8) {
    ModelScheduler::Create(BasicOptions(sink, timer, pool, instances, policy, max_batch), &sched);
  }
};

void RunExecutor(DynamicBatcher& b, std::atomic<bool>& stop, int work_us) {
  const Batch* batch = nullptr;
  while (!stop.load()) {
    if (b.NextBatch(1000000, &batch) != DynamicBatcher::WaitResult::kBatch) continue;
    std::this_thread::sleep_for(std::chrono::microseconds(work_us));
    std::vector<float> out(batch->samples, 1.f);
    OutputView v{DType::kFp32, {int64_t(batch->samples), 1}, reinterpret_cast<const uint8_t*>(out.data()),
                 out.size() * 4};
    b.CompleteBatch(batch->id, {v});
  }
}
}  // namespace

TEST(round_robin_places_evenly_across_instances) {
  SchedulerFixture f(4, "round_robin");
  REQUIRE(f.sched);
  for (int i = 0; i < 40; ++i) { RequestPtr r = FloatRequest(i); REQUIRE(f.sched->Enqueue(r).ok()); }
  for (size_t i = 0; i < 4; ++i) CHECK_EQ(f.sched->instance(i)->counters().placements.load(), uint64_t(10));
  CHECK_EQ(f.sched->pending(), uint64_t(40));
  f.sched->Close(false);
  CHECK_EQ(f.sink.WaitFor(40), size_t(40));
}

TEST(least_outstanding_balances_queued_work) {
  SchedulerFixture f(3, "least_outstanding");
  for (int i = 0; i < 30; ++i) {
    RequestPtr r = FloatRequest(i);
    REQUIRE(f.sched->Enqueue(r).ok());
  }
  for (size_t i = 0; i < 3; ++i) CHECK_EQ(f.sched->instance(i)->counters().queued_samples.load(), 10u);
}

TEST(invalid_instance_count_and_gpu_without_cuda_are_errors) {
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  ModelScheduler::Options o = BasicOptions(sink, timer, pool, 0);
  std::unique_ptr<ModelScheduler> s;
  CHECK(ModelScheduler::Create(o, &s).code() == StatusCode::kInvalidArgument);
  if (StreamPool::CudaDeviceCount() == 0) {
    o.instances.push_back({StreamKind::kGpu, 0});
    CHECK(ModelScheduler::Create(o, &s).code() == StatusCode::kModelUnavailable);
  }
}

TEST(streams_are_recycled_through_the_pool) {
  CollectingSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<ModelScheduler> s;
    REQUIRE(ModelScheduler::Create(BasicOptions(sink, timer, pool, 2), &s).ok());
  }
  CHECK_EQ(pool.created(), size_t(2));
  CHECK_EQ(pool.idle(), size_t(2));
}

TEST(end_to_end_with_executors_completes_everything_and_counts_stats) {
  SchedulerFixture f(2, "shortest_expected_delay", 8);
  std::atomic<bool> stop{false};
  std::thread e0(RunExecutor, std::ref(*f.sched->instance(0)), std::ref(stop), 200);
  std::thread e1(RunExecutor, std::ref(*f.sched->instance(1)), std::ref(stop), 800);
  constexpr int kN = 2000;
  for (int i = 0; i < kN; ++i) {
    RequestPtr r = FloatRequest(i);
    REQUIRE(f.sched->Enqueue(r).ok());
    if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  CHECK_EQ(f.sink.WaitFor(kN, 20000), size_t(kN));
  stop = true;
  e0.join();
  e1.join();
  ModelStats& st = f.sched->stats();
  CHECK_EQ(st.success.load(), uint64_t(kN));
  CHECK_EQ(st.inference_count.load(), uint64_t(kN));
  CHECK(st.execution_count.load() < uint64_t(kN));  // batching happened
  CHECK_EQ(st.request_seconds.Snapshot().count, uint64_t(kN));
  // The 4x faster instance took the larger share.
  CHECK(f.sched->instance(0)->counters().placements.load() > f.sched->instance(1)->counters().placements.load());
}

TEST(registry_hands_out_batchers_and_forgets_them) {
  SchedulerFixture f(1, "round_robin");
  uint64_t token = InstanceRegistry::Register(f.sched->instance(0));
  CHECK(InstanceRegistry::Find(token) == f.sched->instance(0));
  InstanceRegistry::Unregister(token);
  CHECK(InstanceRegistry::Find(token) == nullptr);
  uint64_t t2 = InstanceRegistry::Register(f.sched->instance(0));
  f.sched.reset();
  CHECK(InstanceRegistry::Find(t2) == nullptr);  // weak: the model is gone
}

TEST_MAIN()
