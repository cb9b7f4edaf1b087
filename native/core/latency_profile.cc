#include "latency_profile.h"

#include <algorithm>
#include <cmath>

namespace serval {

namespace {
constexpr double kEwmaWeight = 0.2;
}

LatencyProfile::LatencyProfile(uint32_t max_batch_size, double prior_ns)
    : max_batch_size_(std::max<uint32_t>(1, max_batch_size)),
      ewma_(new std::atomic<float>[max_batch_size_ + 1]),
      writer_points_(max_batch_size_ + 1, 0.0),
      alpha_(prior_ns) {
  for (uint32_t i = 0; i <= max_batch_size_; ++i) ewma_[i].store(0.f, std::memory_order_relaxed);
}

void LatencyProfile::Seed(uint32_t batch_size, double ns) {
  uint32_t b = std::clamp<uint32_t>(batch_size, 1, max_batch_size_);
  writer_points_[b] = ns;
  ewma_[b].store(static_cast<float>(ns), std::memory_order_relaxed);
  Refit();
}

void LatencyProfile::Observe(uint32_t batch_size, double ns) {
  uint32_t b = std::clamp<uint32_t>(batch_size, 1, max_batch_size_);
  double predicted = PredictNs(b);
  if (observations_.load(std::memory_order_relaxed) > 0 && predicted > 0) {
    double err = std::fabs(ns - predicted) / predicted;
    double e = error_ewma_.load(std::memory_order_relaxed);
    error_ewma_.store(e + kEwmaWeight * (err - e), std::memory_order_relaxed);
  }
  double prev = writer_points_[b];
  double next = prev > 0 ? prev + kEwmaWeight * (ns - prev) : ns;
  writer_points_[b] = next;
  ewma_[b].store(static_cast<float>(next), std::memory_order_relaxed);
  observations_.fetch_add(1, std::memory_order_relaxed);
  Refit();
}

// Least-squares affine fit over the observed batch sizes, used for sizes never observed.
// With a single observed size the curve is taken as proportional: l(b) = l(b0) * b / b0 for b > b0
// would overestimate fixed costs, so we split it half fixed, half per-sample.
void LatencyProfile::Refit() {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (uint32_t b = 1; b <= max_batch_size_; ++b) {
    double y = writer_points_[b];
    if (y <= 0) continue;
    n += 1; sx += b; sy += y; sxx += double(b) * b; sxy += b * y;
  }
  if (n == 0) return;
  double alpha, beta;
  double denom = n * sxx - sx * sx;
  if (n < 2 || denom <= 0) {
    double b0 = sx / n, y0 = sy / n;
    alpha = y0 * 0.5;
    beta = (y0 * 0.5) / b0;
  } else {
    beta = (n * sxy - sx * sy) / denom;
    alpha = (sy - beta * sx) / n;
    if (beta < 0) { beta = 0; alpha = sy / n; }
    if (alpha < 0) { alpha = 0; beta = sxy / sxx; }
  }
  alpha_.store(alpha, std::memory_order_relaxed);
  beta_.store(beta, std::memory_order_relaxed);
}

double LatencyProfile::PredictNs(uint32_t batch_size) const {
  uint32_t b = std::clamp<uint32_t>(batch_size, 1, max_batch_size_);
  float v = ewma_[b].load(std::memory_order_relaxed);
  if (v > 0) return v;
  return alpha_.load(std::memory_order_relaxed) + beta_.load(std::memory_order_relaxed) * b;
}

}  // namespace serval
