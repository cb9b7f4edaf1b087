#include "policy_registry.h"

#include "adaptive_concurrency_policy.h"
#include "codel_admission_policy.h"
#include "deadline_admission_policy.h"
#include "earliest_finish_time_policy.h"
#include "learned_admission_policy.h"
#include "learned_policy.h"
#include "least_outstanding_policy.h"
#include "power_of_two_policy.h"
#include "round_robin_policy.h"
#include "shortest_expected_delay_policy.h"
#include "weighted_round_robin_policy.h"

namespace serval {

namespace {

template <typename P>
Status MakePlacement(const std::string&, std::unique_ptr<PlacementPolicy>* out) {
  *out = std::make_unique<P>();
  return Status::Ok();
}

template <typename P>
Status MakeAdmission(const AdmissionOptions& o, std::unique_ptr<AdmissionPolicy>* out) {
  if constexpr (std::is_constructible_v<P, const AdmissionOptions&>) {
    *out = std::make_unique<P>(o);
  } else {
    *out = std::make_unique<P>();
  }
  return Status::Ok();
}

class AdmitAll final : public AdmissionPolicy {
 public:
  const char* name() const override { return "none"; }
  AdmissionDecision Admit(const AdmissionQuery&, const InstanceLoad*, uint32_t, uint32_t) override { return {}; }
};

constexpr PolicyKind P = PolicyKind::kPlacement;
constexpr PolicyKind A = PolicyKind::kAdmission;

}  // namespace

const std::vector<PolicyEntry>& PolicyRegistry() {
  static const std::vector<PolicyEntry> table = {
      {P, "round_robin", "instances in turn, regardless of load", "O(1)", MakePlacement<RoundRobinPolicy>, nullptr},
      {P, "weighted_round_robin", "shares proportional to measured throughput b/l(b)", "O(log n)",
       MakePlacement<WeightedRoundRobinPolicy>, nullptr},
      {P, "least_outstanding", "fewest queued + in-flight samples (JSQ)", "O(n)", MakePlacement<LeastOutstandingPolicy>,
       nullptr},
      {P, "power_of_two", "the less loaded of two random instances (P2C)", "O(1)", MakePlacement<PowerOfTwoPolicy>,
       nullptr},
      {P, "shortest_expected_delay", "smallest predicted completion of the queue ahead", "O(n)",
       MakePlacement<ShortestExpectedDelayPolicy>, nullptr},
      {P, "earliest_finish_time", "smallest predicted finish under the batcher's rules (EFT)", "O(n)",
       MakePlacement<EarliestFinishTimePolicy>, nullptr},
      {P, "learned", "the policy network compiled into the addon (learned:FILE loads weights)", "O(n) + MLP",
       CreateLearnedPolicy, nullptr},
      {A, "none", "admit everything (Triton's behaviour: max_queue_size and timeouts only)", "O(1)", nullptr,
       MakeAdmission<AdmitAll>},
      {A, "deadline", "shed at arrival when no instance is predicted to meet the deadline; drop queued requests that can no longer make it; cap batches by deadline slack",
       "O(n)", nullptr, MakeAdmission<DeadlineAdmissionPolicy>},
      {A, "codel", "controlled delay on each instance queue with adaptive LIFO (Facebook's server CoDel)", "O(1)",
       nullptr, MakeAdmission<CodelAdmissionPolicy>},
      {A, "adaptive_concurrency", "gradient-style adaptive limit on in-flight requests (Gradient2)", "O(1)", nullptr,
       MakeAdmission<AdaptiveConcurrencyPolicy>},
      {A, "learned", "deadline admission with a learned, state-dependent share of the budget to trust (the learned policy's admission head)",
       "O(n)", nullptr, MakeAdmission<LearnedAdmissionPolicy>},
  };
  return table;
}

const PolicyEntry* FindPolicy(PolicyKind kind, const std::string& name) {
  const std::string base = kind == PolicyKind::kPlacement && name.rfind(kLearnedFilePrefix, 0) == 0 ? "learned" : name;
  for (const PolicyEntry& e : PolicyRegistry()) {
    if (e.kind == kind && base == e.name) return &e;
  }
  return nullptr;
}

const char* PolicyKindName(PolicyKind kind) { return kind == PolicyKind::kPlacement ? "placement" : "admission"; }

const std::vector<std::string>& PlacementPolicyNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const PolicyEntry& e : PolicyRegistry()) if (e.kind == PolicyKind::kPlacement) v.push_back(e.name);
    return v;
  }();
  return names;
}

Status CreatePlacementPolicy(const std::string& name, std::unique_ptr<PlacementPolicy>* out) {
  const PolicyEntry* e = FindPolicy(PolicyKind::kPlacement, name);
  if (!e) return Status(StatusCode::kInvalidArgument, "unknown placement policy '" + name + "'");
  return e->placement(name, out);
}

std::vector<std::string> AdmissionPolicyNames() {
  std::vector<std::string> v;
  for (const PolicyEntry& e : PolicyRegistry()) if (e.kind == PolicyKind::kAdmission) v.push_back(e.name);
  return v;
}

Status CreateAdmissionPolicy(const std::string& name, const AdmissionOptions& options,
                             std::unique_ptr<AdmissionPolicy>* out) {
  const PolicyEntry* e = FindPolicy(PolicyKind::kAdmission, name);
  if (!e) return Status(StatusCode::kInvalidArgument, "unknown admission policy '" + name + "'");
  return e->admission(options, out);
}

}  // namespace serval
