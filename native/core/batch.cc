#include "batch.h"

namespace serval {

StagingBuffer::StagingBuffer(std::shared_ptr<ExecutionStream> stream, size_t capacity, uint64_t id)
    : stream_(std::move(stream)),
      data_(static_cast<uint8_t*>(stream_->AllocateStaging(capacity))),
      capacity_(data_ ? capacity : 0),
      id_(id) {}

StagingBuffer::~StagingBuffer() { stream_->FreeStaging(data_); }

}  // namespace serval
