#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace serval {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

std::vector<double> Histogram::LatencyBoundsSeconds() {
  std::vector<double> b;
  for (double decade = 1e-5; decade < 10.0; decade *= 10) {
    b.push_back(decade);
    b.push_back(decade * 2.5);
    b.push_back(decade * 5);
  }
  b.push_back(10.0);
  return b;
}

std::vector<double> Histogram::BatchSizeBounds(uint32_t max_batch_size) {
  std::vector<double> b;
  uint32_t top = std::max<uint32_t>(1, max_batch_size);
  for (uint32_t v = 1; v < top; v *= 2) b.push_back(v);
  b.push_back(top);
  return b;
}

void Histogram::Record(double value) {
  // upper_bound semantics of Prometheus buckets: value <= bound falls in that bucket.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double nano = std::max(0.0, value) * 1e9;
  sum_nano_.fetch_add(static_cast<uint64_t>(std::llround(nano)), std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.count = count_.load(std::memory_order_relaxed);
  s.sum = static_cast<double>(sum_nano_.load(std::memory_order_relaxed)) * 1e-9;
  return s;
}

}  // namespace serval
