#include "codel_admission_policy.h"

namespace serval {

namespace {
constexpr int64_t kDefaultTargetNs = 5'000'000;
constexpr int64_t kDefaultIntervalNs = 100'000'000;
}  // namespace

CodelAdmissionPolicy::CodelAdmissionPolicy(const AdmissionOptions& o) {
  discipline_.codel_target_ns = o.codel_target_ns > 0 ? o.codel_target_ns : kDefaultTargetNs;
  discipline_.codel_interval_ns = o.codel_interval_ns > 0 ? o.codel_interval_ns : kDefaultIntervalNs;
  if (discipline_.codel_interval_ns < discipline_.codel_target_ns) discipline_.codel_interval_ns = discipline_.codel_target_ns;
  discipline_.adaptive_lifo = true;
}

}  // namespace serval
