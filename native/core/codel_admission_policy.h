// CodelAdmissionPolicy ("codel"): controlled delay on each instance queue, Facebook's server variant
// ("Fail at Scale"), with adaptive LIFO. While an instance's queue has not been empty for the last
// interval (default 100 ms), queued requests that waited longer than the target (default 5 ms) are
// dropped when the instance forms its next batch, else those that waited longer than the interval; and
// the batch is formed newest-first within each priority level (adaptive LIFO), since the oldest
// requests' callers are the likeliest to have given up. Priority order is kept (higher levels are served
// first, so lower ones wait longer and are dropped first). Nothing is shed at arrival.
#pragma once

#include "admission_policy.h"

namespace serval {

class CodelAdmissionPolicy final : public AdmissionPolicy {
 public:
  explicit CodelAdmissionPolicy(const AdmissionOptions& o);
  const char* name() const override { return "codel"; }
  AdmissionDecision Admit(const AdmissionQuery&, const InstanceLoad*, uint32_t, uint32_t) override { return {}; }
  QueueDiscipline discipline() const override { return discipline_; }

 private:
  QueueDiscipline discipline_;
};

}  // namespace serval
