#include "status.h"

namespace serval {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kUnknownModel: return "UNKNOWN_MODEL";
    case StatusCode::kInvalidInput: return "INVALID_INPUT";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kQueueFull: return "QUEUE_FULL";
    case StatusCode::kTimeout: return "TIMEOUT";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kClosed: return "CLOSED";
    case StatusCode::kModelUnavailable: return "MODEL_UNAVAILABLE";
    case StatusCode::kExecutionFailed: return "EXECUTION_FAILED";
    case StatusCode::kShed: return "SHED";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace serval
