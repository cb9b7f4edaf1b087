// DeadlineAdmissionPolicy ("deadline"): Clockwork-style admission by predicted completion.
// At arrival, a request whose predicted finish (PredictFinish, the batcher's own rules) on the placement's
// instance misses its deadline goes to the instance that finishes it soonest, if that one makes it; when
// none does, it is shed at once (kDeadline). Lower priority levels are held to a shorter budget
// (PriorityShare), so they are shed first. Its queue discipline re-checks queued requests at every batch
// formation, drops those that can no longer make it (kLate), caps batches by deadline slack and sends a
// forming batch early when waiting would make it late. Requests without a deadline are always admitted.
#pragma once

#include "admission_policy.h"

namespace serval {

// The rule both deadline and learned admission apply: admit on `chosen` when its predicted finish is within
// `budget_ns` of now, else on the instance that finishes soonest when that one is, else shed with `reason`.
AdmissionDecision AdmitWithinBudget(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen,
                                    double budget_ns, ShedReason reason);

class DeadlineAdmissionPolicy final : public AdmissionPolicy {
 public:
  const char* name() const override { return "deadline"; }
  AdmissionDecision Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen) override;
  QueueDiscipline discipline() const override;
};

}  // namespace serval
