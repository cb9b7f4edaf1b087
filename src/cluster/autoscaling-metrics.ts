/**
 * Prometheus gauges of the autoscaling signal (src/cluster/slo-capacity.ts), registered by ServerMetrics
 * when the runtime measures latency profiles (a `serval serve` replica; not the router, whose "instances"
 * are replicas and would count them twice):
 *   serval_slo_capacity_requests_per_second{model,version}  what this replica serves within the SLO
 *   serval_slo_capacity_utilization{model,version}          arrival rate / that capacity (HPA/KEDA target)
 */
import { Gauge, type Registry } from 'prom-client';
import type { RuntimeStats } from '../api-types.js';
import type { Runtime } from '../runtime.js';
import { ArrivalRate, instanceSloCapacity } from './slo-capacity.js';

export type ProfiledRuntime = Pick<Runtime, 'profileOf' | 'config'>;

interface Row { labels: { model: string; version: string }; capacity: number; utilization: number }

export function registerAutoscalingMetrics(registry: Registry, runtime: ProfiledRuntime, snapshot: () => { stats: RuntimeStats; at: number }): void {
  const arrivals = new ArrivalRate();
  let rows: Row[] = [];
  let rowsAt = -1;
  /** One computation per scrape, shared by both gauges. */
  const current = (): Row[] => {
    const { stats, at } = snapshot();
    if (at === rowsAt) return rows;
    rowsAt = at;
    const keys = new Set<string>();
    rows = [];
    for (const m of stats.models) {
      if (m.state !== 'READY') continue;
      const key = `${m.name}\0${m.version}`;
      keys.add(key);
      const requests = m.success + Object.values(m.failure).reduce((a, b) => a + b, 0);
      const rate = arrivals.sample(key, requests, at, m.uptimeSeconds);
      let capacity = 0;
      try {
        const config = runtime.config(m.name, m.version);
        const slo = Number(config.parameters['slo_ms'] ?? 0) / 1000;
        const native = runtime.profileOf(m.name, m.version);
        // An instance that has not executed yet reports the profile's flat prior (1 ms at every batch size): no signal from it.
        for (const i of native?.instances ?? []) {
          if (i.executions > 0) capacity += instanceSloCapacity(i.latencyProfile, Number.isFinite(slo) ? slo : 0, config.maxBatchSize);
        }
      } catch {
        continue;  // unloaded between the snapshot and now
      }
      if (capacity <= 0) continue;  // no profile yet: no signal rather than a made-up one
      rows.push({ labels: { model: m.name, version: String(m.version) }, capacity, utilization: rate / capacity });
    }
    arrivals.retain(keys);
    return rows;
  };
  new Gauge({
    name: 'serval_slo_capacity_requests_per_second',
    help: 'Requests per second this replica can serve within the model latency objective (slo_ms), from its instances\' measured batch-latency profiles.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of current()) this.set(r.labels, r.capacity);
    },
  });
  new Gauge({
    name: 'serval_slo_capacity_utilization',
    help: 'Arrival rate since the previous scrape over serval_slo_capacity_requests_per_second: the autoscaling signal (replicas needed = ceil(sum / target)).',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of current()) this.set(r.labels, r.utilization);
    },
  });
}
