#include "admission_policy.h"

namespace serval {

const char* ShedReasonName(ShedReason r) {
  switch (r) {
    case ShedReason::kNone: return "none";
    case ShedReason::kDeadline: return "deadline";
    case ShedReason::kLate: return "late";
    case ShedReason::kCodel: return "codel";
    case ShedReason::kConcurrency: return "concurrency";
    case ShedReason::kLearned: return "learned";
  }
  return "none";
}

double PriorityShare(uint32_t level, uint32_t levels) {
  if (levels <= 1 || level <= 1) return 1.0;
  if (level > levels) level = levels;
  return 1.0 - kPriorityReserve * double(level - 1) / double(levels - 1);
}

}  // namespace serval
