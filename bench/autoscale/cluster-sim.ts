/**
 * A fleet of identical replicas under an autoscaler, simulated window by window with serval's native
 * simulator (the live BatchPlanner, placement and admission code): each sync period's arrivals run against
 * the replicas ready in it, and the autoscaler sees that window's metric at the next sync, as an HPA sees
 * the last scrape. Queues do not carry over between windows; with a queue timeout equal to the SLO a
 * window ends with at most one SLO's worth of work, small against a 15 s window (the method's error).
 *
 * Metrics the two autoscalers read:
 * - `cpu`: the replicas' busy fraction (time their instances spent executing), what CPU utilisation
 *   measures for an executor-bound server;
 * - `slo_capacity`: serval_slo_capacity_utilization, the window's arrival rate per replica over the
 *   requests per second a replica serves within the SLO (src/cluster/slo-capacity.ts).
 */
import { loadAddon, type NativeSimConfig } from '../../src/binding.js';
import { HpaController, type HpaSpec } from './hpa-controller.js';

export interface ReplicaModel {
  /** One instance's batch latency, index b-1, microseconds. */
  latencyUs: number[];
  instancesPerReplica: number;
  maxBatchSize: number;
  sloMs: number;
  /** Requests per second one replica serves within the SLO. */
  sloCapacity: number;
}

export interface FleetRun {
  metric: 'cpu' | 'slo_capacity';
  hpa: HpaSpec;
  initialReplicas: number;
}

export interface FleetResult {
  replicaSeconds: number;
  arrivals: number;
  withinSlo: number;
  attainment: number;
  peakReplicas: number;
  /** Pod count after each sync (for charts). */
  timeline: { t: number; replicas: number; ready: number; metric: number }[];
}

/** Runs `arrivals` (seconds, ascending) through the fleet; `policy` places requests on the ready instances. */
export function simulateFleet(model: ReplicaModel, arrivals: Float64Array, run: FleetRun, policy = 'least_outstanding', seed = 1): FleetResult {
  const sim = loadAddon().sim;
  const period = run.hpa.syncPeriodS ?? 15;
  const hpa = new HpaController(run.hpa, run.initialReplicas);
  const end = arrivals.length ? arrivals[arrivals.length - 1]! + 1e-9 : 0;
  const result: FleetResult = { replicaSeconds: 0, arrivals: 0, withinSlo: 0, attainment: 1, peakReplicas: run.initialReplicas, timeline: [] };
  let i = 0;
  for (let t = 0; t < end; t += period) {
    const ready = hpa.readyAt(t);
    result.replicaSeconds += hpa.total * Math.min(period, end - t);
    const start = i;
    while (i < arrivals.length && arrivals[i]! < t + period) i++;
    const window = Array.from(arrivals.subarray(start, i), (x) => x - t);
    let metric = 0;
    if (window.length > 0) {
      const config: NativeSimConfig = {
        models: [{ maxBatchSize: model.maxBatchSize, sloUs: model.sloMs * 1000, queueTimeoutUs: model.sloMs * 1000 }],
        instances: Array.from({ length: Math.max(1, ready) * model.instancesPerReplica }, () => ({ model: 0, latencyUs: model.latencyUs })),
        arrivals: { timesS: window },
        policy,
        options: { seed: seed + t, warmupS: 0 },
      };
      const r = sim.simulate(config);
      result.arrivals += r.arrivals;
      result.withinSlo += ready > 0 ? r.withinSlo : 0;
      // busyFraction is over the simulated span: as a share of the whole window, as a scrape would see it.
      const busy = Math.min(1, r.busyFraction.reduce((a, b) => a + b, 0) / r.busyFraction.length * r.spanS / period);
      metric = run.metric === 'cpu' ? busy : window.length / period / Math.max(1, ready) / model.sloCapacity;
    }
    const replicas = hpa.sync(t + period, metric);
    result.peakReplicas = Math.max(result.peakReplicas, replicas);
    result.timeline.push({ t: t + period, replicas, ready, metric });
  }
  result.attainment = result.arrivals ? result.withinSlo / result.arrivals : 1;
  return result;
}
