#include "placement_policy.h"

#include "least_outstanding_policy.h"
#include "power_of_two_policy.h"
#include "round_robin_policy.h"
#include "shortest_expected_delay_policy.h"

namespace serval {

const std::vector<std::string>& PlacementPolicyNames() {
  static const std::vector<std::string> names = {"round_robin", "least_outstanding", "power_of_two",
                                                 "shortest_expected_delay"};
  return names;
}

Status CreatePlacementPolicy(const std::string& name, std::unique_ptr<PlacementPolicy>* out) {
  if (name == "round_robin") *out = std::make_unique<RoundRobinPolicy>();
  else if (name == "least_outstanding") *out = std::make_unique<LeastOutstandingPolicy>();
  else if (name == "power_of_two") *out = std::make_unique<PowerOfTwoPolicy>();
  else if (name == "shortest_expected_delay") *out = std::make_unique<ShortestExpectedDelayPolicy>();
  else return Status(StatusCode::kInvalidArgument, "unknown placement policy '" + name + "'");
  return Status::Ok();
}

double PredictCompletionNs(const InstanceLoad& load, uint32_t batch_size) {
  const uint32_t max_b = load.max_batch_size ? load.max_batch_size : 1;
  uint32_t samples = load.queued_samples + batch_size;
  uint32_t full = samples / max_b;
  uint32_t rest = samples % max_b;
  double t = static_cast<double>(load.busy_remaining_ns);
  if (full) t += full * load.profile->PredictNs(max_b);
  if (rest) t += load.profile->PredictNs(rest);
  return t;
}

}  // namespace serval
