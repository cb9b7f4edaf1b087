#include "instance_load.h"

#include <algorithm>

#include "batch_planner.h"

namespace serval {

namespace {
// Time constant of the utilisation EWMA. The weight of a span dt is dt / (dt + tau): a first-order
// stand-in for 1 - exp(-dt/tau) that is cheap and gives the same bits on every machine.
constexpr double kUtilisationTauNs = 1e9;
}  // namespace

InstanceLoad SnapshotLoad(const InstanceCounters& c, const LatencyProfile& profile, const BatchingConfig& config,
                          uint32_t index, int64_t now_ns) {
  InstanceLoad l;
  l.index = index;
  l.queued_requests = c.queued_requests.load(std::memory_order_relaxed);
  l.queued_samples = c.queued_samples.load(std::memory_order_relaxed);
  l.inflight_samples = c.inflight_samples.load(std::memory_order_relaxed);
  l.max_batch_size = std::max<uint32_t>(1, config.max_batch_size);
  l.dispatch_samples = BatchPlanner::DispatchSamples(config);
  l.max_queue_delay_ns = config.max_batch_size > 0 ? config.max_queue_delay_ns : 0;
  if (l.inflight_samples) {
    int64_t end = c.inflight_start_ns.load(std::memory_order_relaxed) +
                  c.inflight_predicted_ns.load(std::memory_order_relaxed);
    l.busy_remaining_ns = std::max<int64_t>(0, end - now_ns);
  }
  l.oldest_enqueue_ns = l.queued_requests ? c.oldest_enqueue_ns.load(std::memory_order_relaxed) : 0;
  l.turnaround_ns = c.turnaround_ns.load(std::memory_order_relaxed);
  l.utilisation = c.utilisation.load(std::memory_order_relaxed);
  l.utilisation_at_ns = c.utilisation_at_ns.load(std::memory_order_relaxed);
  l.profile = &profile;
  return l;
}

void RecordBusy(InstanceCounters& c, int64_t start_ns, int64_t end_ns) {
  int64_t last = c.utilisation_at_ns.load(std::memory_order_relaxed);
  if (last == 0 || last > start_ns) last = start_ns;
  const double span = double(end_ns - last);
  if (span <= 0) return;
  const double busy_fraction = std::min(1.0, double(end_ns - start_ns) / span);
  const double u = c.utilisation.load(std::memory_order_relaxed);
  const double w = span / (span + kUtilisationTauNs);
  c.utilisation.store(static_cast<float>(u + w * (busy_fraction - u)), std::memory_order_relaxed);
  c.utilisation_at_ns.store(end_ns, std::memory_order_relaxed);
}

double UtilisationAt(const InstanceLoad& l, int64_t now_ns) {
  const double u = l.utilisation;
  if (l.utilisation_at_ns == 0 || now_ns <= l.utilisation_at_ns) return u;
  const double dt = double(now_ns - l.utilisation_at_ns);
  const double w = dt / (dt + kUtilisationTauNs);
  const double target = l.inflight_samples ? 1.0 : 0.0;
  return u + w * (target - u);
}

}  // namespace serval
