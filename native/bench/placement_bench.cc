// Placement decision cost, measured natively: for each policy (and the learned one with its guard rails
// open, so that the network runs on every decision), every decision is timed on its own
// (rdtsc on x86, calibrated; steady_clock elsewhere) over 8 candidate instances whose loads change
// between decisions. Reports p50/p99/p99.9 in ns for Choose() alone and for the full placement step
// the scheduler runs (load snapshot of every instance + Choose()). Prints JSON lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "clock.h"
#include "deadline_timer.h"
#include "dynamic_batcher.h"
#include "learned_policy.h"
#include "placement_policy.h"
#include "policy_registry.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

using namespace serval;

namespace {

class NullSink : public CompletionSink {
 public:
  void Complete(std::vector<RequestPtr>) override {}
};

struct Ticker {
  double ns_per_tick = 1.0;
  Ticker() {
#if defined(__x86_64__)
    auto t0 = std::chrono::steady_clock::now();
    uint64_t c0 = __rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {}
    uint64_t c1 = __rdtsc();
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    ns_per_tick = ns / double(c1 - c0);
#endif
  }
  static uint64_t Now() {
#if defined(__x86_64__)
    unsigned aux;
    return __rdtscp(&aux);
#else
    return uint64_t(NowNs());
#endif
  }
};

double Percentile(std::vector<double>& v, double q) {
  size_t k = std::min(v.size() - 1, size_t(q * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  const int kCandidates = 8;
  const int kDecisions = argc > 1 ? std::atoi(argv[1]) : 200000;
  Ticker ticker;

  // Timer overhead: two back-to-back reads.
  std::vector<double> empty(kDecisions);
  for (int i = 0; i < kDecisions; ++i) {
    uint64_t a = Ticker::Now();
    uint64_t b = Ticker::Now();
    empty[i] = double(b - a) * ticker.ns_per_tick;
  }
  double overhead = Percentile(empty, 0.5);

  // Real batchers so the snapshot path is the one the scheduler runs.
  NullSink sink;
  DeadlineTimer timer;
  StreamPool pool;
  auto spec = std::make_shared<const ModelSpec>(ModelSpec{"m", 1, 64, {{"x", DType::kFp32, {16}}}, {{"y", DType::kFp32, {1}}}});
  std::vector<std::shared_ptr<DynamicBatcher>> batchers;
  for (int i = 0; i < kCandidates; ++i) {
    std::shared_ptr<ExecutionStream> stream;
    pool.Acquire(StreamKind::kCpu, 0, &stream);
    DynamicBatcher::Deps d;
    d.spec = spec;
    d.config.max_batch_size = 64;
    d.instance_index = i;
    d.stream = stream;
    d.sink = &sink;
    d.timer = &timer;
    d.stats = std::make_shared<ModelStats>(64);
    d.queue_counters = std::make_shared<ModelQueueCounters>(1);
    std::shared_ptr<DynamicBatcher> b;
    DynamicBatcher::Create(std::move(d), &b);
    for (int s = 1; s <= 64; s *= 2) b->profile().Seed(s, 50000.0 * (1 + i % 3) + 2000.0 * s);
    batchers.push_back(std::move(b));
  }

  std::printf("{\"bench\":\"placement\",\"candidates\":%d,\"decisions\":%d,\"timer_overhead_ns\":%.1f}\n",
              kCandidates, kDecisions, overhead);
  uint64_t sink_acc = 0;
  // The built-in policies, plus the bundled learned policy with its guard rails opened so that every
  // decision runs the network (the bundled one hands decisions outside its envelope to EFT, which is cheaper).
  std::vector<std::string> names = PlacementPolicyNames();
  names.push_back("learned (network on every decision)");
  for (const auto& name : names) {
    std::unique_ptr<PlacementPolicy> policy;
    if (name == names.back()) {
      auto open = std::make_shared<PolicyWeights>(*BundledPolicyWeights());
      for (uint32_t k = 0; k < kPolicyInputs; ++k) {
        open->envelope_lo[k] = -1e30f;
        open->envelope_hi[k] = 1e30f;
      }
      open->max_error_ewma = 1e30f;
      policy = std::make_unique<LearnedPolicy>(open, "learned-open");
    } else {
      CreatePlacementPolicy(name, &policy);
    }
    std::vector<double> choose(kDecisions), full(kDecisions);
    InstanceLoad loads[kCandidates];
    for (int i = 0; i < kDecisions; ++i) {
      // Vary the loads so branches are not perfectly predicted.
      auto& c = batchers[i % kCandidates]->mutable_counters();
      c.queued_samples.store((i * 7) % 13, std::memory_order_relaxed);
      c.inflight_samples.store((i * 3) % 5, std::memory_order_relaxed);
      PlacementQuery q;
      q.batch_size = 1 + (i & 1);
      uint64_t t0 = Ticker::Now();
      int64_t now = NowNs();
      for (int k = 0; k < kCandidates; ++k) loads[k] = batchers[k]->Load(now);
      uint64_t t1 = Ticker::Now();
      uint32_t pick = policy->Choose(q, loads, kCandidates);
      uint64_t t2 = Ticker::Now();
      sink_acc += pick;
      choose[i] = std::max(0.0, double(t2 - t1) * ticker.ns_per_tick - overhead);
      full[i] = std::max(0.0, double(t2 - t0) * ticker.ns_per_tick - overhead);
    }
    std::printf("{\"policy\":\"%s\",\"choose_p50_ns\":%.1f,\"choose_p99_ns\":%.1f,\"choose_p999_ns\":%.1f,"
                "\"placement_p50_ns\":%.1f,\"placement_p99_ns\":%.1f,\"placement_p999_ns\":%.1f}\n",
                name.c_str(), Percentile(choose, 0.5), Percentile(choose, 0.99), Percentile(choose, 0.999),
                Percentile(full, 0.5), Percentile(full, 0.99), Percentile(full, 0.999));
  }
  // Placement with admission: the scheduler's whole arrival decision (snapshot, Choose, Admit) with
  // earliest_finish_time placing and each admission policy deciding, a third of the requests unable to make their deadline.
  for (const std::string& admission_name : AdmissionPolicyNames()) {
    std::unique_ptr<PlacementPolicy> policy;
    CreatePlacementPolicy("earliest_finish_time", &policy);
    AdmissionOptions ao;
    ao.instances = kCandidates;
    ao.max_batch_size = 64;
    std::unique_ptr<AdmissionPolicy> admission;
    CreateAdmissionPolicy(admission_name, ao, &admission);
    std::vector<double> decide(kDecisions), full(kDecisions);
    InstanceLoad loads[kCandidates];
    uint64_t shed = 0;
    for (int i = 0; i < kDecisions; ++i) {
      auto& c = batchers[i % kCandidates]->mutable_counters();
      c.queued_samples.store((i * 7) % 13, std::memory_order_relaxed);
      c.inflight_samples.store((i * 3) % 5, std::memory_order_relaxed);
      uint64_t t0 = Ticker::Now();
      int64_t now = NowNs();
      for (int k = 0; k < kCandidates; ++k) loads[k] = batchers[k]->Load(now);
      uint64_t t1 = Ticker::Now();
      PlacementQuery q;
      q.batch_size = 1 + (i & 1);
      q.now_ns = now;
      q.deadline_ns = now + ((i % 3) == 0 ? 45'000 : 2'000'000);  // a third cannot make it anywhere
      uint32_t pick = policy->Choose(q, loads, kCandidates);
      AdmissionQuery aq;
      aq.batch_size = q.batch_size;
      aq.now_ns = now;
      aq.deadline_ns = q.deadline_ns;
      aq.in_flight = i % 64;
      AdmissionDecision d = admission->Admit(aq, loads, kCandidates, pick);
      uint64_t t2 = Ticker::Now();
      shed += d.shed != ShedReason::kNone;
      sink_acc += pick + uint32_t(d.instance);
      decide[i] = std::max(0.0, double(t2 - t1) * ticker.ns_per_tick - overhead);
      full[i] = std::max(0.0, double(t2 - t0) * ticker.ns_per_tick - overhead);
    }
    std::printf("{\"policy\":\"earliest_finish_time+%s\",\"choose_p50_ns\":%.1f,\"choose_p99_ns\":%.1f,\"choose_p999_ns\":%.1f,"
                "\"placement_p50_ns\":%.1f,\"placement_p99_ns\":%.1f,\"placement_p999_ns\":%.1f,\"shed_fraction\":%.3f}\n",
                admission_name.c_str(), Percentile(decide, 0.5), Percentile(decide, 0.99), Percentile(decide, 0.999),
                Percentile(full, 0.5), Percentile(full, 0.99), Percentile(full, 0.999), double(shed) / kDecisions);
  }
  return sink_acc == 0xFFFFFFFF ? 1 : 0;
}
