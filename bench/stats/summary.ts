/**
 * The metrics a step reports, defined once so they cannot drift between the table, the JSON and the charts:
 *
 * - latency = completion − intended send time, for every request that arrived in the measured windows;
 *   failed requests (rejected, timed out, errored, unfinished, never sent) count as infinite latency, so a
 *   percentile that falls among them is `null` (∞). `okLatencyMs` is the same over successes only.
 * - percentiles are nearest-rank.
 * - throughput = successes completed per second within the measured windows (by completion time).
 * - SLO attainment = successes within the SLO / requests that arrived; goodput = successes within SLO per second.
 * - offered rate = requests that arrived per second.
 */
import type { MeasurementWindow } from '../load/recorder.js';
import { ModelCell } from '../load/recorder.js';
import type { LatencyHistogram } from './histogram.js';

/** Milliseconds; `null` means infinite (a failure falls at that rank) or no requests at all. */
export interface LatencySummary {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface RequestCounts {
  /** Requests that arrived in the measured windows. */
  arrivals: number;
  ok: number;
  failed: number;
  /** Failures by reason. */
  failures: Record<string, number>;
}

export interface ModelMetrics extends RequestCounts {
  latencyMs: LatencySummary;
  attainment: number | null;
}

export interface StepMetrics extends RequestCounts {
  /** Length of the measured windows, seconds. */
  durationS: number;
  offeredRate: number;
  throughput: number;
  goodput: number | null;
  attainment: number | null;
  latencyMs: LatencySummary;
  okLatencyMs: LatencySummary;
  /** Latency CDF over all requests: [percentile, ms]; stops where failures begin. */
  cdf: Array<[number, number]>;
  /** Per model, when the step mixes several. */
  perModel?: Record<string, ModelMetrics>;
}

const CDF_PERCENTILES = [0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.9, 99.99, 100];

export function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function latencySummary(h: LatencyHistogram, failures: number): LatencySummary {
  const at = (p: number) => finite(h.percentileWithFailuresMs(p, failures));
  return {
    mean: failures > 0 ? null : finite(h.meanMs),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: failures > 0 ? null : finite(h.maxMs),
  };
}

function counts(cell: ModelCell): RequestCounts {
  const failed = cell.failed;
  return { arrivals: cell.arrivals, ok: cell.latency.count, failed, failures: Object.fromEntries([...cell.failures].sort()) };
}

function attainment(cell: ModelCell, sloMs: number | undefined): number | null {
  return sloMs === undefined || cell.arrivals === 0 ? null : cell.withinSlo / cell.arrivals;
}

export function summarizeWindows(windows: MeasurementWindow[], stopMs: number, modelNames: string[], sloMs?: number): StepMetrics {
  const total = new ModelCell();
  const perModel = modelNames.map(() => new ModelCell());
  let completedOk = 0;
  let durationMs = 0;
  for (const w of windows) {
    w.cells.forEach((c, i) => perModel[i].add(c));
    completedOk += w.completedOk;
    durationMs += Math.max(0, Math.min(w.endMs, stopMs) - w.startMs);
  }
  for (const c of perModel) total.add(c);
  const durationS = durationMs / 1000;
  const perSecond = (n: number) => (durationS > 0 ? n / durationS : 0);
  const base = counts(total);
  const metrics: StepMetrics = {
    ...base,
    durationS,
    offeredRate: perSecond(total.arrivals),
    throughput: perSecond(completedOk),
    goodput: sloMs === undefined ? null : perSecond(total.withinSlo),
    attainment: attainment(total, sloMs),
    latencyMs: latencySummary(total.latency, base.failed),
    okLatencyMs: latencySummary(total.latency, 0),
    cdf: CDF_PERCENTILES.map((p): [number, number] => [p, total.latency.percentileWithFailuresMs(p, base.failed)]).filter(
      ([, ms]) => Number.isFinite(ms),
    ),
  };
  if (modelNames.length > 1) {
    metrics.perModel = Object.fromEntries(
      modelNames.map((name, i) => {
        const c = perModel[i];
        const n = counts(c);
        return [name, { ...n, latencyMs: latencySummary(c.latency, n.failed), attainment: attainment(c, sloMs) }];
      }),
    );
  }
  return metrics;
}
