// LatencyProfile: online batch-latency curve.
#include "latency_profile.h"
#include "test_harness.h"

using namespace serval;

TEST(prior_until_first_observation) {
  LatencyProfile p(8, 123.0);
  CHECK(p.PredictNs(1) == 123.0);
  CHECK(p.PredictNs(8) == 123.0);
}

TEST(observed_sizes_use_their_ewma_and_others_the_affine_fit) {
  LatencyProfile p(16);
  for (int i = 0; i < 20; ++i) {
    p.Observe(1, 1000);
    p.Observe(8, 8000);
  }
  CHECK(std::abs(p.PredictNs(1) - 1000) < 1);
  CHECK(std::abs(p.PredictNs(8) - 8000) < 1);
  CHECK(std::abs(p.PredictNs(4) - 4000) < 50);    // on the line through both points
  CHECK(std::abs(p.PredictNs(16) - 16000) < 100);
}

TEST(ewma_tracks_drift_and_error_grows_on_surprise) {
  LatencyProfile p(4);
  for (int i = 0; i < 50; ++i) p.Observe(2, 1000);
  double calm = p.ErrorEwma();
  for (int i = 0; i < 50; ++i) p.Observe(2, 3000);
  CHECK(p.PredictNs(2) > 2900);
  CHECK(calm < 0.01);
  p.Observe(2, 9000);
  CHECK(p.ErrorEwma() > 0.1);
}

TEST(sizes_are_clamped_to_the_range) {
  LatencyProfile p(4);
  p.Observe(100, 5000);  // treated as 4
  CHECK(std::abs(p.PredictNs(4) - 5000) < 1);
  CHECK(p.PredictNs(0) > 0);
}

TEST_MAIN()
