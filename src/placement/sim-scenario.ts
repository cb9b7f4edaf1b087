/**
 * A simulated serving scenario (one model, its instances, an arrival process, a load and an SLO) and the
 * simulator config that realises it from a latency profile (profile-file.ts). Loads are fractions of the
 * instances' capacity; instance speeds are slowdowns of the profiled curve, so one profile yields
 * heterogeneous clusters.
 */
import type { NativeSimConfig, NativeSimPolicy } from '../binding.js';
import { latencyCurveUs, meanCv, type ModelProfile, type ProfileFile } from './profile-file.js';

export interface SimScenario {
  /** The profiled model whose curve the instances follow. */
  model: string;
  /** Each instance's slowdown against the profiled curve (1 = as measured, 4 = four times slower). */
  speeds: number[];
  /** 'poisson', 'gamma:CV', 'mmpp:peak=P,on=S,off=S', or a trace window (arrival times, seconds). */
  process: string | { traceS: number[] };
  /** Offered load, a fraction of capacity (see capacityPerSecond). */
  load: number;
  sloMs: number;
  /** Hand the SLO to the policy (the runtime does when the model config sets slo_ms). */
  sloToPolicy: boolean;
  /** Requests in the episode (the duration follows from the rate). */
  requests: number;
  /** Fraction of the episode discarded as warm-up. @default 0.1 */
  warmupFraction?: number;
  /** Overrides the profiled coefficient of variation of every execution. */
  noiseCv?: number;
  /** Overrides the model's max_queue_delay. */
  maxQueueDelayUs?: number;
  /** A queue timeout for every request (requests still queued then fail). */
  queueTimeoutMs?: number;
  seed: number;
}

/** Placement cost charged to every request (ns; native placement_bench, 8 candidates, p50 of the full step). */
export const DECISION_NS: Record<string, number> = {
  round_robin: 100, weighted_round_robin: 120, least_outstanding: 100, power_of_two: 100,
  shortest_expected_delay: 140, earliest_finish_time: 140, learned: 600,
};

export function decisionNs(policy: string): number {
  return DECISION_NS[policy.startsWith('learned') ? 'learned' : policy] ?? DECISION_NS['learned']!;
}

export function modelOf(profile: ProfileFile, name: string): ModelProfile {
  const m = profile.models[name];
  if (!m) throw new Error(`the profile has no model '${name}' (it has ${Object.keys(profile.models).join(', ')})`);
  return m;
}

/** Each instance's true latency curve (index b-1), microseconds. */
export function instanceCurves(m: ModelProfile, speeds: number[]): number[][] {
  return speeds.map((s, i) => latencyCurveUs(m.instances[i % m.instances.length]!, m.maxBatchSize).map((us) => us * s));
}

/**
 * Requests per second the instances sustain: per instance the best b / l(b) over batch sizes whose l(b)
 * fits in half the SLO (at least b = 1), summed.
 */
export function capacityPerSecond(curves: number[][], sloMs: number): number {
  let total = 0;
  for (const curve of curves) {
    let best = 1 / curve[0]!;
    curve.forEach((us, k) => { if (us <= sloMs * 500 && (k + 1) / us > best) best = (k + 1) / us; });
    total += best * 1e6;
  }
  return total;
}

export function simConfig(profile: ProfileFile, s: SimScenario, policy: NativeSimPolicy, options: { keepLatencies?: boolean } = {}): NativeSimConfig {
  const m = modelOf(profile, s.model);
  const curves = instanceCurves(m, s.speeds);
  const rate = s.load * capacityPerSecond(curves, s.sloMs);
  const durationS = s.requests / rate;
  const arrivals = typeof s.process === 'string'
    ? { process: s.process, rate, durationS: durationS * 1.5, maxRequests: s.requests, seed: s.seed }
    : { traceS: s.process.traceS, rateScale: rate / traceRate(s.process.traceS), durationS: 1e9, maxRequests: s.requests, seed: s.seed };
  return {
    models: [{
      maxBatchSize: m.maxBatchSize,
      preferredBatchSizes: m.preferredBatchSizes,
      maxQueueDelayUs: s.maxQueueDelayUs ?? m.maxQueueDelayUs,
      sloUs: s.sloMs * 1000,
      sloToPolicy: s.sloToPolicy,
      queueTimeoutUs: (s.queueTimeoutMs ?? 0) * 1000,
    }],
    instances: curves.map((latencyUs, i) => ({ model: 0, latencyUs, noiseCv: s.noiseCv ?? meanCv(m.instances[i % m.instances.length]!) })),
    arrivals,
    policy,
    options: {
      seed: s.seed,
      overheadUs: m.overheadUs,
      decisionNs: typeof policy === 'string' ? decisionNs(policy) : decisionNs('learned'),
      warmupS: durationS * (s.warmupFraction ?? 0.1),
      keepLatencies: options.keepLatencies ?? false,
    },
  };
}

/** Mean arrival rate of a trace window (requests per second of trace time). */
export function traceRate(times: number[]): number {
  const span = times[times.length - 1]! - times[0]!;
  return span > 0 ? (times.length - 1) / span : 1;
}
