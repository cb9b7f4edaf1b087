// Placement policies: distributions and choices on synthetic instance loads.
#include <map>
#include <memory>

#include "earliest_finish_time_policy.h"
#include "least_outstanding_policy.h"
#include "placement_policy.h"
#include "power_of_two_policy.h"
#include "round_robin_policy.h"
#include "shortest_expected_delay_policy.h"
#include "test_harness.h"
#include "weighted_round_robin_policy.h"

using namespace serval;

namespace {
struct Loads {
  std::vector<std::unique_ptr<LatencyProfile>> profiles;
  std::vector<InstanceLoad> loads;
  explicit Loads(std::vector<double> per_batch_ns, uint32_t max_batch = 8) {
    profiles.reserve(per_batch_ns.size());
    for (size_t i = 0; i < per_batch_ns.size(); ++i) {
      profiles.push_back(std::make_unique<LatencyProfile>(max_batch));
      profiles.back()->Seed(1, per_batch_ns[i]);
      profiles.back()->Seed(max_batch, per_batch_ns[i] * 2);
      InstanceLoad l;
      l.index = i;
      l.max_batch_size = max_batch;
      loads.push_back(l);
    }
    for (size_t i = 0; i < loads.size(); ++i) loads[i].profile = profiles[i].get();
  }
};
}  // namespace

TEST(factory_knows_every_builtin_and_rejects_unknown) {
  for (auto& name : PlacementPolicyNames()) {
    std::unique_ptr<PlacementPolicy> p;
    REQUIRE(CreatePlacementPolicy(name, &p).ok());
    CHECK(name == p->name());
  }
  std::unique_ptr<PlacementPolicy> p;
  CHECK(CreatePlacementPolicy("fastest", &p).code() == StatusCode::kInvalidArgument);
}

TEST(round_robin_cycles_evenly_regardless_of_load) {
  Loads l({1e6, 1e6, 1e6});
  l.loads[0].queued_samples = 100;
  RoundRobinPolicy p;
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 300; ++i) counts[p.Choose({}, l.loads.data(), 3)]++;
  CHECK_EQ(counts[0], 100);
  CHECK_EQ(counts[1], 100);
  CHECK_EQ(counts[2], 100);
}

TEST(least_outstanding_picks_the_shortest_queue) {
  Loads l({1e6, 1e6, 1e6, 1e6});
  l.loads[0].queued_samples = 5;
  l.loads[1].queued_samples = 2;
  l.loads[1].inflight_samples = 2;
  l.loads[2].queued_samples = 1;
  l.loads[3].inflight_samples = 3;
  LeastOutstandingPolicy p;
  for (int i = 0; i < 10; ++i) CHECK_EQ(p.Choose({}, l.loads.data(), 4), 2u);
}

TEST(least_outstanding_spreads_ties) {
  Loads l({1e6, 1e6, 1e6});
  LeastOutstandingPolicy p;
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 300; ++i) counts[p.Choose({}, l.loads.data(), 3)]++;
  CHECK_EQ(counts.size(), size_t(3));
}

TEST(power_of_two_never_picks_the_most_loaded_of_many) {
  Loads l({1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6});
  for (uint32_t i = 0; i < 8; ++i) l.loads[i].queued_samples = i;  // instance 7 is the most loaded
  PowerOfTwoPolicy p(42);
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 8000; ++i) counts[p.Choose({}, l.loads.data(), 8)]++;
  CHECK_EQ(counts.count(7), size_t(0));
  // P(pick i) = 2(7-i)/56 for distinct pairs: the least loaded gets ~25%, the second ~21%.
  CHECK(counts[0] > 1700 && counts[0] < 2300);
  CHECK(counts[0] > counts[3] && counts[3] > counts[6]);
}

TEST(power_of_two_with_one_instance_returns_it) {
  Loads l({1e6});
  PowerOfTwoPolicy p;
  CHECK_EQ(p.Choose({}, l.loads.data(), 1), 0u);
}

TEST(shortest_expected_delay_weighs_instance_speed) {
  // Instance 1 is 4x slower per batch: with equal queues, SED prefers instance 0, and it keeps doing
  // so until instance 0's queue is much longer.
  Loads l({1e6, 4e6}, 1);
  ShortestExpectedDelayPolicy p;
  CHECK_EQ(p.Choose({}, l.loads.data(), 2), 0u);
  l.loads[0].queued_samples = 2;  // 3 batches x 1 ms = 3 ms < 4 ms
  CHECK_EQ(p.Choose({}, l.loads.data(), 2), 0u);
  l.loads[0].queued_samples = 4;  // 5 ms > 4 ms
  CHECK_EQ(p.Choose({}, l.loads.data(), 2), 1u);
}

TEST(shortest_expected_delay_counts_busy_remaining_time) {
  Loads l({1e6, 1e6}, 1);
  l.loads[0].busy_remaining_ns = 5000000;
  ShortestExpectedDelayPolicy p;
  CHECK_EQ(p.Choose({}, l.loads.data(), 2), 1u);
}

TEST(predicted_completion_uses_full_batches_then_remainder) {
  Loads l({1e6}, 4);  // l(1)=1ms, l(4)=2ms
  l.loads[0].queued_samples = 5;
  // 5 queued + 1 = 6 samples: one batch of 4 (2 ms) + a batch of 2 (affine fit between the points).
  double t = PredictCompletionNs(l.loads[0], 1);
  double l2 = l.profiles[0]->PredictNs(2);
  CHECK(t > 2e6 + l2 - 1 && t < 2e6 + l2 + 1);
  CHECK(l2 > 1e6 && l2 < 2e6);
}

// Batching instances for EFT: max batch 8, a 500 us max_queue_delay, no preferred sizes, and a flat
// latency curve l(b) = 1 ms + 10 us x b.
Loads BatchingLoads(size_t n) {
  Loads l(std::vector<double>(n, 1e6), 8);
  for (auto& p : l.profiles) {
    p->Seed(1, 1.01e6);
    p->Seed(8, 1.08e6);
  }
  for (auto& x : l.loads) {
    x.dispatch_samples = 8;
    x.max_queue_delay_ns = 500000;
  }
  return l;
}

TEST(earliest_finish_time_joins_the_forming_batch) {
  // Both idle; instance 1 already holds a forming batch of 3 whose oldest request came 100 us ago: a
  // request joining it goes out with it (in 400 us), a request on instance 0 waits the full 500 us.
  Loads l = BatchingLoads(2);
  const int64_t now = 10000000;
  l.loads[1].queued_samples = 3;
  l.loads[1].queued_requests = 3;
  l.loads[1].oldest_enqueue_ns = now - 100000;
  PlacementQuery q;
  q.now_ns = now;
  FinishEstimate join = PredictFinish(l.loads[1], 1, now);
  CHECK(join.joins_forming);
  CHECK_EQ(join.batch_samples, 4u);
  CHECK(std::abs(join.start_ns - 400000) < 1);
  FinishEstimate alone = PredictFinish(l.loads[0], 1, now);
  CHECK(!alone.joins_forming);
  CHECK(std::abs(alone.start_ns - 500000) < 1);
  EarliestFinishTimePolicy p;
  for (int i = 0; i < 4; ++i) CHECK_EQ(p.Choose(q, l.loads.data(), 2), 1u);
}

TEST(earliest_finish_time_skips_the_wait_when_the_batch_reaches_its_dispatch_size) {
  Loads l = BatchingLoads(2);
  const int64_t now = 10000000;
  l.loads[0].dispatch_samples = 4;
  l.loads[0].queued_samples = 3;
  l.loads[0].queued_requests = 3;
  l.loads[0].oldest_enqueue_ns = now;
  FinishEstimate e = PredictFinish(l.loads[0], 1, now);
  CHECK_EQ(e.batch_samples, 4u);
  CHECK(e.start_ns == 0);  // a 4th sample completes the batch: it goes at once
}

TEST(earliest_finish_time_counts_full_batches_ahead_and_a_batch_that_cannot_take_the_request) {
  Loads l = BatchingLoads(1);
  const int64_t now = 0;
  l.loads[0].busy_remaining_ns = 300000;
  l.loads[0].inflight_samples = 8;
  l.loads[0].queued_samples = 8 + 7;  // one full batch, then 7 samples
  FinishEstimate e = PredictFinish(l.loads[0], 2, now);  // 7 + 2 > 8: the 7 go alone
  CHECK_EQ(e.batch_samples, 2u);
  const double expected_start = 300000 + l.profiles[0]->PredictNs(8) + l.profiles[0]->PredictNs(7);
  CHECK(std::abs(e.start_ns - expected_start) < 1);
  CHECK(std::abs(e.service_ns - l.profiles[0]->PredictNs(2)) < 1);
}

TEST(earliest_finish_time_prefers_a_fast_busy_instance_over_a_slow_idle_one) {
  // Without batching delay: instance 0 is busy for 1 ms more but 4x faster (1 ms vs 4 ms per batch).
  Loads l({1e6, 4e6}, 1);
  l.loads[0].busy_remaining_ns = 1000000;
  l.loads[0].inflight_samples = 1;
  EarliestFinishTimePolicy p;
  PlacementQuery q;
  CHECK_EQ(p.Choose(q, l.loads.data(), 2), 0u);  // 1 + 1 = 2 ms < 4 ms
  l.loads[0].queued_samples = 3;                 // 1 + 3 + 1 = 5 ms > 4 ms
  CHECK_EQ(p.Choose(q, l.loads.data(), 2), 1u);
}

TEST(weighted_round_robin_shares_traffic_by_measured_throughput) {
  // l(1) = 1, 2, 4 ms and no batching: throughputs 4:2:1.
  Loads l({1e6, 2e6, 4e6}, 1);
  WeightedRoundRobinPolicy p;
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 7000; ++i) counts[p.Choose({}, l.loads.data(), 3)]++;
  CHECK(std::abs(counts[0] - 4000) <= 10);
  CHECK(std::abs(counts[1] - 2000) <= 10);
  CHECK(std::abs(counts[2] - 1000) <= 10);
}

TEST(weighted_round_robin_interleaves_instead_of_bursting) {
  // Equal weights: any 10 consecutive decisions split close to 5/5, never a long run on one instance.
  Loads l({1e6, 1e6}, 1);
  l.loads[1].queued_samples = 100;  // load-oblivious
  WeightedRoundRobinPolicy p;
  uint32_t prev = 99, run = 0, longest = 0;
  for (int i = 0; i < 1000; ++i) {
    uint32_t c = p.Choose({}, l.loads.data(), 2);
    run = c == prev ? run + 1 : 1;
    longest = std::max(longest, run);
    prev = c;
  }
  CHECK(longest <= 3);
}

TEST_MAIN()
