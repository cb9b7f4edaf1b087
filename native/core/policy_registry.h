// PolicyRegistry: the one table of serval's scheduling policies, placement (where a request runs) and
// admission (whether and when). Every list of policies (the binding's buildInfo, the CLI help, the
// simulator, the benchmark harness) reads this table; adding a policy is its own files plus one row.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admission_policy.h"
#include "placement_policy.h"

namespace serval {

enum class PolicyKind { kPlacement, kAdmission };

struct PolicyEntry {
  PolicyKind kind;
  const char* name;
  const char* description;
  // What one decision costs, as a reader would estimate it (placement_bench measures it).
  const char* decision_cost;
  // Exactly one factory is set, by kind.
  Status (*placement)(const std::string& name, std::unique_ptr<PlacementPolicy>* out);
  Status (*admission)(const AdmissionOptions& options, std::unique_ptr<AdmissionPolicy>* out);
};

const std::vector<PolicyEntry>& PolicyRegistry();
// The entry for `name` of that kind ("learned:FILE" finds "learned"); nullptr when unknown.
const PolicyEntry* FindPolicy(PolicyKind kind, const std::string& name);
const char* PolicyKindName(PolicyKind kind);

}  // namespace serval
