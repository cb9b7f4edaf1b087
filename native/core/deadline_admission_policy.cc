#include "deadline_admission_policy.h"

#include "placement_policy.h"

namespace serval {

AdmissionDecision DeadlineAdmissionPolicy::Admit(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n,
                                                 uint32_t chosen) {
  if (q.deadline_ns <= 0) return AdmissionDecision();
  const double budget = double(q.deadline_ns - q.now_ns) * PriorityShare(q.priority_level, q.priority_levels);
  return AdmitWithinBudget(q, loads, n, chosen, budget, ShedReason::kDeadline);
}

AdmissionDecision AdmitWithinBudget(const AdmissionQuery& q, const InstanceLoad* loads, uint32_t n, uint32_t chosen,
                                    double budget, ShedReason reason) {
  AdmissionDecision d;
  if (PredictFinish(loads[chosen], q.batch_size, q.now_ns).finish_ns() <= budget) return d;
  uint32_t best = chosen;
  double best_finish = budget;
  for (uint32_t i = 0; i < n; ++i) {
    if (i == chosen) continue;
    const double f = PredictFinish(loads[i], q.batch_size, q.now_ns).finish_ns();
    if (f <= best_finish) {
      best = i;
      best_finish = f;
    }
  }
  if (best == chosen) {
    d.shed = reason;
  } else {
    d.instance = int32_t(best);
  }
  return d;
}

QueueDiscipline DeadlineAdmissionPolicy::discipline() const {
  QueueDiscipline d;
  d.drop_late = true;
  d.deadline_batching = true;
  return d;
}

}  // namespace serval
