// Status: the result type of every fallible operation in the native core.
// The core never throws across its API; native/binding turns a non-OK Status into a JS ServalError
// whose `code` is the string returned by StatusCodeName().
#pragma once

#include <string>
#include <utility>

namespace serval {

enum class StatusCode : int {
  kOk = 0,
  kUnknownModel,
  kInvalidInput,
  kInvalidArgument,
  kQueueFull,
  kTimeout,
  kCancelled,
  kClosed,
  kModelUnavailable,
  kExecutionFailed,
  kShed,  // admission control refused the request (see admission_policy.h)
  kInternal,
};

// Stable names shared with src/errors.ts (ServalErrorCode).
const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace serval
