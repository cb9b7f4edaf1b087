// Learned placement policy: forward pass (SIMD vs scalar), weights file, features, guard rails.
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>

#include "learned_policy.h"
#include "policy_features.h"
#include "policy_network.h"
#include "test_harness.h"

using namespace serval;

namespace {

std::shared_ptr<PolicyWeights> RandomWeights(uint32_t seed) {
  auto w = std::make_shared<PolicyWeights>();
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 0.4f);
  for (uint32_t i = 0; i < kPolicyInputs; ++i) {
    w->feature_mean[i] = g(rng);
    w->feature_inv_std[i] = 1.f + std::fabs(g(rng));
    w->envelope_lo[i] = -1e6f;
    w->envelope_hi[i] = 1e6f;
  }
  w->max_error_ewma = 1.f;
  std::vector<float> params(kPolicyParams);
  for (auto& p : params) p = g(rng);
  SetPolicyParams(w.get(), params.data());
  return w;
}

std::vector<float> RandomFeatures(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 2.f);
  std::vector<float> x(n * kPolicyInputs);
  for (auto& v : x) v = g(rng);
  return x;
}

struct Candidates {
  std::vector<std::unique_ptr<LatencyProfile>> profiles;
  std::vector<InstanceLoad> loads;
  explicit Candidates(std::vector<double> l1_ns) {
    for (size_t i = 0; i < l1_ns.size(); ++i) {
      profiles.push_back(std::make_unique<LatencyProfile>(8));
      profiles.back()->Seed(1, l1_ns[i]);
      profiles.back()->Seed(8, l1_ns[i] * 3);
      InstanceLoad l;
      l.index = uint32_t(i);
      l.max_batch_size = 8;
      l.dispatch_samples = 8;
      l.profile = profiles.back().get();
      loads.push_back(l);
    }
  }
};

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST(simd_and_scalar_forward_passes_are_bit_identical) {
  if (!PolicySimdAvailable()) {
    std::printf("  (no AVX2/FMA on this CPU: only the scalar pass runs)\n");
    return;
  }
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    auto w = RandomWeights(seed);
    auto x = RandomFeatures(16, seed * 7);
    float a[16], b[16];
    ScorePolicyCandidatesScalar(*w, x.data(), 16, a);
    ScorePolicyCandidatesAvx2(*w, x.data(), 16, b);
    for (int i = 0; i < 16; ++i) CHECK_EQ(Bits(a[i]), Bits(b[i]));
  }
}

TEST(params_round_trip_through_the_flat_vector) {
  auto w = RandomWeights(3);
  std::vector<float> p(kPolicyParams), q(kPolicyParams);
  GetPolicyParams(*w, p.data());
  PolicyWeights w2{};
  SetPolicyParams(&w2, p.data());
  GetPolicyParams(w2, q.data());
  CHECK(p == q);
  CHECK(w2.w1[2][5] == w->w1[2][5]);
  CHECK(w2.b3 == w->b3);
}

TEST(weights_file_round_trips) {
  auto w = RandomWeights(4);
  std::vector<uint8_t> bytes = EncodePolicyWeights(*w);
  PolicyWeights back{};
  REQUIRE(DecodePolicyWeights(bytes.data(), bytes.size(), &back).ok());
  CHECK(std::memcmp(&back.w1, &w->w1, sizeof(w->w1)) == 0);
  CHECK(std::memcmp(&back.envelope_hi, &w->envelope_hi, sizeof(w->envelope_hi)) == 0);
  CHECK(back.max_error_ewma == w->max_error_ewma);
  CHECK(back.b3 == w->b3);
}

TEST(bad_weights_files_are_rejected_with_a_reason) {
  auto w = RandomWeights(5);
  std::vector<uint8_t> good = EncodePolicyWeights(*w);
  PolicyWeights out{};
  auto reject = [&](std::vector<uint8_t> bytes, const char* why) {
    Status st = DecodePolicyWeights(bytes.data(), bytes.size(), &out);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    if (st.message().find(why) == std::string::npos) std::printf("  unexpected message: %s\n", st.message().c_str());
    CHECK(st.message().find(why) != std::string::npos);
  };
  auto bad = good;
  bad[0] = 'X';
  reject(bad, "bad magic");
  bad = good;
  bad[8] = 9;
  reject(bad, "unsupported policy weights version 9");
  bad = good;
  bad[12] = 8;
  reject(bad, "policy network is 8-32-32-1");
  bad = good;
  bad.resize(bad.size() - 10);
  reject(bad, "truncated");
  bad = good;
  bad[100] ^= 1;
  reject(bad, "checksum mismatch");
  reject({}, "bad magic");
  w->w2[3][3] = NAN;
  reject(EncodePolicyWeights(*w), "non-finite");
  std::unique_ptr<PlacementPolicy> p;
  Status st = CreatePlacementPolicy("learned:/nonexistent/policy.bin", &p);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("cannot read policy weights file '/nonexistent/policy.bin'") != std::string::npos);
  CHECK(CreatePlacementPolicy("learned:", &p).code() == StatusCode::kInvalidArgument);
}

TEST(a_weights_file_loads_as_a_policy) {
  auto w = RandomWeights(6);
  std::vector<uint8_t> bytes = EncodePolicyWeights(*w);
  const std::string path = "learned_policy_test.bin";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  std::unique_ptr<PlacementPolicy> p;
  REQUIRE(CreatePlacementPolicy("learned:" + path, &p).ok());
  CHECK(std::string(p->name()) == "learned:" + path);
  auto* learned = dynamic_cast<LearnedPolicy*>(p.get());
  REQUIRE(learned != nullptr);
  CHECK(std::memcmp(&learned->weights().w2, &w->w2, sizeof(w->w2)) == 0);
  std::remove(path.c_str());
}

TEST(features_are_normalised_by_the_slo) {
  Candidates c({1e6, 2e6});
  const int64_t now = 1000000000;
  c.loads[0].busy_remaining_ns = 500000;
  c.loads[0].inflight_samples = 4;
  c.loads[1].queued_samples = 2;
  c.loads[1].queued_requests = 2;
  c.loads[1].max_queue_delay_ns = 1000000;
  c.loads[1].oldest_enqueue_ns = now - 250000;
  PlacementQuery q;
  q.now_ns = now;
  q.slo_ns = 10000000;  // 10 ms
  PolicySignals signals;
  PolicyDecisionInputs in;
  ExtractPolicyFeatures(q, c.loads.data(), 2, signals, &in);
  CHECK(in.slo_ns == 1e7);
  const float* r0 = in.features;
  const float* r1 = in.features + kPolicyInputs;
  CHECK(std::fabs(r0[0] - 0.05f) < 1e-6f);                                 // 0.5 ms / 10 ms
  CHECK(std::fabs(r0[1] - 0.1f) < 1e-6f);                                  // l(1) = 1 ms
  CHECK(std::fabs(r0[2] - 0.85f) < 1e-6f);                                 // slack
  CHECK(std::fabs(r0[5] - 0.5f) < 1e-6f);                                  // 4 of 8 in flight
  CHECK(r0[6] == 0.f);                                                     // nothing forming
  CHECK(std::fabs(r1[0] - 0.075f) < 1e-6f);                                // waits 0.75 ms more
  CHECK(std::fabs(r1[4] - 0.25f) < 1e-6f);                                 // 2 of 8 queued
  CHECK(std::fabs(r1[6] - 3.f / 8.f) < 1e-6f);                             // joins a forming batch of 2
  CHECK(std::fabs(r1[10] - 0.5f) < 1e-6f);                                 // half as fast
  CHECK(std::fabs(r0[11] - 2.f / kPolicyMaxCandidates) < 1e-6f);
  const float gap0 = r0[3], gap1 = r1[3];
  CHECK(std::min(gap0, gap1) == 0.f);
  // Without an SLO or deadline: kDefaultSloScale x the fastest l(1).
  q.slo_ns = 0;
  ExtractPolicyFeatures(q, c.loads.data(), 2, signals, &in);
  CHECK(in.slo_ns == kDefaultSloScale * 1e6);
  q.deadline_ns = now + 4000000;
  ExtractPolicyFeatures(q, c.loads.data(), 2, signals, &in);
  CHECK(in.slo_ns == 4e6);
}

TEST(guard_rails_fall_back_to_eft_and_count_it) {
  Candidates c({1e6, 1e6});
  auto w = RandomWeights(8);
  w->envelope_lo[4] = 0.f;
  w->envelope_hi[4] = 0.5f;  // queued samples / max batch must stay within [0, 0.5]
  LearnedPolicy p(w, "learned:test");
  PlacementQuery q;
  q.now_ns = 1000;
  p.Choose(q, c.loads.data(), 2);
  CHECK_EQ(p.fallbacks(), uint64_t(0));
  c.loads[0].queued_samples = 6;  // 0.75: outside the envelope
  CHECK_EQ(p.Choose(q, c.loads.data(), 2), 1u);  // EFT's choice
  CHECK_EQ(p.fallbacks(), uint64_t(1));
  PolicyDecisionInputs in;
  ExtractPolicyFeatures(q, c.loads.data(), 2, p.signals(), &in);
  CHECK(std::string(p.GuardRail(in, c.loads.data(), 2)) == "feature outside the training envelope");

  // A profile whose predictions went wrong.
  c.loads[0].queued_samples = 0;
  for (int i = 0; i < 20; ++i) c.profiles[1]->Observe(1, i % 2 ? 1e6 : 5e6);
  w->max_error_ewma = 0.3f;
  LearnedPolicy p2(w, "learned:test");
  p2.Choose(q, c.loads.data(), 2);
  CHECK_EQ(p2.fallbacks(), uint64_t(1));
  ExtractPolicyFeatures(q, c.loads.data(), 2, p2.signals(), &in);
  CHECK(std::string(p2.GuardRail(in, c.loads.data(), 2)) == "prediction error");
}

TEST(more_candidates_than_the_network_takes_fall_back) {
  std::vector<double> l(kPolicyMaxCandidates + 1, 1e6);
  Candidates c(l);
  LearnedPolicy p(RandomWeights(9), "learned:test");
  PlacementQuery q;
  p.Choose(q, c.loads.data(), kPolicyMaxCandidates + 1);
  CHECK_EQ(p.fallbacks(), uint64_t(1));
}

TEST(argmax_prefers_candidates_that_meet_the_deadline) {
  PolicyDecisionInputs in;
  in.estimates[0].start_ns = 9e6;   // misses a 5 ms deadline
  in.estimates[1].start_ns = 1e6;   // meets it
  float scores[2] = {1.f, 0.f};
  PlacementQuery q;
  q.now_ns = 100;
  CHECK_EQ(ArgmaxFeasible(q, in, scores, 2), 0u);  // no deadline: best score
  q.deadline_ns = 100 + 5000000;
  CHECK_EQ(ArgmaxFeasible(q, in, scores, 2), 1u);
  in.estimates[1].start_ns = 8e6;  // none meets it: best score again
  CHECK_EQ(ArgmaxFeasible(q, in, scores, 2), 0u);
  // The model's SLO is a budget too.
  q.deadline_ns = 0;
  q.slo_ns = 8500000;
  CHECK_EQ(ArgmaxFeasible(q, in, scores, 2), 1u);
}

TEST(bundled_policy_is_available_by_name) {
  std::unique_ptr<PlacementPolicy> p;
  REQUIRE(CreatePlacementPolicy("learned", &p).ok());
  CHECK(std::string(p->name()) == "learned");
  Candidates c({1e6, 1e6, 1e6});
  c.loads[0].queued_samples = 8;
  c.loads[1].queued_samples = 16;
  PlacementQuery q;
  CHECK(p->Choose(q, c.loads.data(), 3) < 3u);
}

TEST_MAIN()
