// Histogram: bucket placement (Prometheus le semantics), sums, concurrent records.
#include <thread>

#include "histogram.h"
#include "test_harness.h"

using namespace serval;

TEST(values_fall_in_the_first_bucket_whose_bound_is_not_smaller) {
  Histogram h({1, 2, 4});
  h.Record(0.5);
  h.Record(1);
  h.Record(3);
  h.Record(100);
  auto s = h.Snapshot();
  CHECK(s.counts == std::vector<uint64_t>({2, 0, 1, 1}));
  CHECK_EQ(s.count, uint64_t(4));
  CHECK(std::abs(s.sum - 104.5) < 1e-6);
}

TEST(default_bounds_are_ascending_and_cover_10us_to_10s) {
  auto b = Histogram::LatencyBoundsSeconds();
  CHECK(b.front() == 1e-5);
  CHECK(b.back() == 10.0);
  for (size_t i = 1; i < b.size(); ++i) CHECK(b[i] > b[i - 1]);
  auto bs = Histogram::BatchSizeBounds(24);
  CHECK(bs == std::vector<double>({1, 2, 4, 8, 16, 24}));
}

TEST(concurrent_records_are_all_counted) {
  Histogram h(Histogram::LatencyBoundsSeconds());
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) ts.emplace_back([&] { for (int i = 0; i < 10000; ++i) h.Record(0.001); });
  for (auto& t : ts) t.join();
  CHECK_EQ(h.Snapshot().count, uint64_t(40000));
}

TEST_MAIN()
