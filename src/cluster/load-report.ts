/**
 * Per-response load reports in the ORCA convention (the `endpoint-load-metrics` header that Envoy and
 * gRPC's ORCA read), TEXT format:
 *   endpoint-load-metrics: TEXT rps_fractional=12.5, named_metrics.queue_depth=3, named_metrics.in_flight=5, named_metrics.predicted_delay_ms=1.8
 * Replicas attach one to every inference response, so a router's view of each replica is as fresh as its
 * last answer without polling.
 */
import type { RuntimeStats } from '../api-types.js';
import { instanceSloCapacity } from './slo-capacity.js';
import type { ProfiledRuntime } from './autoscaling-metrics.js';

export const LOAD_REPORT_HEADER = 'endpoint-load-metrics';

export interface LoadReport {
  /** Requests queued and not yet executing, over every model. */
  queueDepth: number;
  /** Admitted requests not yet answered (queued or running). */
  inFlight: number;
  /** Queue depth over the replica's SLO capacity: how long a new request would wait, in ms. */
  predictedDelayMs: number;
}

export function formatLoadReport(r: LoadReport): string {
  return `TEXT named_metrics.queue_depth=${r.queueDepth}, named_metrics.in_flight=${r.inFlight}, named_metrics.predicted_delay_ms=${round3(r.predictedDelayMs)}`;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Parses a TEXT load report; undefined when absent or not one (the router then keeps its own view). */
export function parseLoadReport(header: string | string[] | undefined): LoadReport | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text || !text.startsWith('TEXT ')) return undefined;
  const fields = new Map<string, number>();
  for (const part of text.slice(5).split(',')) {
    const [k, v] = part.split('=', 2).map((s) => s.trim());
    const n = Number(v);
    if (k && v !== undefined && Number.isFinite(n)) fields.set(k, n);
  }
  const q = fields.get('named_metrics.queue_depth');
  const f = fields.get('named_metrics.in_flight');
  const d = fields.get('named_metrics.predicted_delay_ms');
  if (q === undefined || f === undefined || d === undefined) return undefined;
  return { queueDepth: q, inFlight: f, predictedDelayMs: d };
}

/**
 * The replica's current load, computed from `runtime.stats()` at most once per `maxAgeMs` (a stats
 * snapshot costs tens of microseconds; a response must not pay it every time).
 */
export class LoadReporter {
  private cached = '';
  private at = -Infinity;

  constructor(private readonly runtime: { stats(): RuntimeStats } & Partial<ProfiledRuntime>, private readonly maxAgeMs = 5) {}

  header(): string {
    const now = performance.now();
    if (now - this.at < this.maxAgeMs) return this.cached;
    this.at = now;
    this.cached = formatLoadReport(this.measure());
    return this.cached;
  }

  private measure(): LoadReport {
    let queueDepth = 0;
    let inFlight = 0;
    let delayS = 0;
    for (const m of this.runtime.stats().models) {
      queueDepth += m.pending;
      inFlight += m.inFlight;
      const capacity = this.capacity(m.name, m.version);
      if (capacity > 0) delayS = Math.max(delayS, m.pending / capacity);
    }
    return { queueDepth, inFlight, predictedDelayMs: delayS * 1000 };
  }

  private capacity(model: string, version: number): number {
    const { profileOf, config } = this.runtime;
    if (!profileOf || !config) return 0;
    try {
      const c = config.call(this.runtime, model, version);
      let sum = 0;
      for (const i of profileOf.call(this.runtime, model, version)?.instances ?? []) {
        if (i.executions > 0) sum += instanceSloCapacity(i.latencyProfile, 0, c.maxBatchSize);  // else still the prior
      }
      return sum;
    } catch {
      return 0;
    }
  }
}
