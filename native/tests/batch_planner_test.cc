// BatchPlanner: Triton's batch rule as a pure function (the DynamicBatcher tests cover it live).
#include "batch_planner.h"
#include "test_harness.h"

using namespace serval;

namespace {
BatchingConfig Cfg(uint32_t max_batch, int64_t delay_ns, std::vector<uint32_t> preferred = {}) {
  BatchingConfig c;
  c.max_batch_size = max_batch;
  c.max_queue_delay_ns = delay_ns;
  c.preferred_batch_sizes = std::move(preferred);
  return c;
}
BatchPlan Plan(const BatchingConfig& c, std::vector<uint32_t> samples, int64_t first_ns, int64_t now_ns) {
  BatchPlanner p(c);
  for (uint32_t s : samples) {
    if (!p.Offer(s, true)) break;
  }
  return p.Finish(first_ns, now_ns);
}
}  // namespace

TEST(empty_queue_gives_an_empty_plan) {
  BatchingConfig c = Cfg(8, 100);
  CHECK_EQ(Plan(c, {}, 0, 0).count, size_t(0));
}

TEST(waits_for_the_delay_below_every_preferred_size) {
  BatchingConfig c = Cfg(8, 100, {4});
  BatchPlan p = Plan(c, {1, 1}, 1000, 1050);
  CHECK(!p.ready);
  CHECK_EQ(p.wake_at_ns, int64_t(1100));
  p = Plan(c, {1, 1}, 1000, 1100);
  CHECK(p.ready);
  CHECK_EQ(p.samples, 2u);
}

TEST(sends_the_largest_preferred_size_reached) {
  BatchingConfig c = Cfg(16, 1000000, {2, 4, 8});
  BatchPlan p = Plan(c, {1, 1, 1, 1, 1}, 0, 0);
  CHECK(p.ready);
  CHECK_EQ(p.count, size_t(4));
  CHECK_EQ(p.samples, 4u);
}

TEST(closes_the_batch_at_a_request_that_does_not_fit) {
  BatchingConfig c = Cfg(4, 1000000);
  BatchPlan p = Plan(c, {3, 2}, 0, 0);
  CHECK(p.ready);
  CHECK_EQ(p.count, size_t(1));
  CHECK_EQ(p.samples, 3u);
}

TEST(another_shape_closes_the_batch) {
  BatchingConfig c = Cfg(8, 1000000);
  BatchPlanner p(c);
  CHECK(p.Offer(1, true));
  CHECK(!p.Offer(1, false));
  CHECK(!p.Offer(1, true));  // closed: ignored
  BatchPlan plan = p.Finish(0, 0);
  CHECK(plan.ready);
  CHECK_EQ(plan.count, size_t(1));
}

TEST(no_batching_sends_one_request_at_a_time) {
  BatchingConfig c = Cfg(0, 1000000);
  BatchPlan p = Plan(c, {1, 1, 1}, 0, 0);
  CHECK(p.ready);
  CHECK_EQ(p.count, size_t(1));
  CHECK_EQ(BatchPlanner::DispatchSamples(c), 1u);
}

TEST(dispatch_samples_is_the_smallest_preferred_size_or_the_max) {
  CHECK_EQ(BatchPlanner::DispatchSamples(Cfg(16, 100, {4, 8})), 4u);
  CHECK_EQ(BatchPlanner::DispatchSamples(Cfg(16, 100)), 16u);
  CHECK_EQ(BatchPlanner::DispatchSamples(Cfg(16, 0)), 1u);
}

TEST_MAIN()
