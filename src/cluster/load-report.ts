/**
 * Per-response load reports in the ORCA convention (the `endpoint-load-metrics` header that Envoy and
 * gRPC's ORCA read), TEXT format:
 *   endpoint-load-metrics: TEXT rps_fractional=12.5, named_metrics.queue_depth=3, named_metrics.in_flight=5, named_metrics.predicted_delay_ms=1.8
 * Replicas attach one to every inference response, so a router's view of each replica is as fresh as its
 * last answer without polling.
 */
import type { RuntimeStats } from '../api-types.js';
import type { Runtime } from '../runtime.js';
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
 * The replica's current load, measured at most once per `maxAgeMs`: queue depth and in-flight counts from
 * `runtime.queueLoad()` when the runtime has it (a few native reads; `stats()` otherwise, which builds every
 * histogram and cost about 1.3 µs per response at 30k responses/s), and each model's SLO capacity from its
 * latency profiles, which change slowly, recomputed at most once per CAPACITY_MAX_AGE_MS.
 */
export class LoadReporter {
  private cached = '';
  private at = -Infinity;
  private readonly capacities = new Map<string, { value: number; at: number }>();

  constructor(
    private readonly runtime: { stats(): RuntimeStats } & Partial<ProfiledRuntime> & Partial<Pick<Runtime, 'queueLoad'>>,
    private readonly maxAgeMs = 5,
  ) {}

  header(): string {
    const now = performance.now();
    if (now - this.at < this.maxAgeMs) return this.cached;
    this.at = now;
    this.cached = formatLoadReport(this.measure(now));
    return this.cached;
  }

  private measure(now: number): LoadReport {
    let queueDepth = 0;
    let inFlight = 0;
    let delayS = 0;
    const rows = this.runtime.queueLoad ? this.runtime.queueLoad() : this.runtime.stats().models;
    for (const m of rows) {
      queueDepth += m.pending;
      inFlight += m.inFlight;
      const capacity = this.capacity(m.name, m.version, now);
      if (capacity > 0) delayS = Math.max(delayS, m.pending / capacity);
    }
    return { queueDepth, inFlight, predictedDelayMs: delayS * 1000 };
  }

  private capacity(model: string, version: number, now: number): number {
    const key = `${model}/${version}`;
    const known = this.capacities.get(key);
    if (known && now - known.at < CAPACITY_MAX_AGE_MS) return known.value;
    const value = this.profileCapacity(model, version);
    this.capacities.set(key, { value, at: now });
    return value;
  }

  private profileCapacity(model: string, version: number): number {
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

/** How long a model's SLO capacity (from its instances' latency profiles) is reused in load reports. */
const CAPACITY_MAX_AGE_MS = 1000;
