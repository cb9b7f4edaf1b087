/**
 * Training and evaluation episodes for the learned placement policy, with domain randomisation: cluster
 * size and instance speed mix, offered load 0.3-1.1, arrival burstiness (Poisson, Gamma CV 1.5-8, MMPP
 * peaks 3-10x, windows of a real trace), SLO tightness, batching delay and execution noise. The split
 * (train, validation, test) is folded into every seed, and trace windows come from disjoint parts of the
 * trace: train from its first 60%, validation from the next 20%, test from the last 20%.
 */
import { deriveSeed, uniforms } from './seeds.js';
import { instanceCurves, modelOf, type SimScenario } from './sim-scenario.js';
import type { ProfileFile } from './profile-file.js';

export type Split = 'train' | 'validation' | 'test';

const TRACE_SPLITS: Record<Split, [number, number]> = { train: [0, 0.6], validation: [0.6, 0.8], test: [0.8, 1] };

export interface EpisodeOptions {
  /** Requests per episode. */
  requests: number;
  /** Arrival times (seconds, ascending) of a real trace to cut windows from; none: synthetic arrivals only. */
  trace?: number[];
  /** Restrict to these profiled models (default: every model in the profile). */
  models?: string[];
  /** Offered load range (fractions of capacity). @default [0.3, 1.1] */
  loadRange?: [number, number];
}

/** Cuts a window of about `count` arrivals from the split's part of the trace. */
export function traceWindow(trace: number[], split: Split, count: number, u: () => number): number[] {
  const [from, to] = TRACE_SPLITS[split];
  const lo = Math.floor(from * trace.length), hi = Math.floor(to * trace.length);
  const n = Math.min(count, hi - lo);
  const start = lo + Math.floor(u() * Math.max(1, hi - lo - n));
  return trace.slice(start, start + n);
}

function pick<T>(u: () => number, items: readonly T[]): T {
  return items[Math.min(items.length - 1, Math.floor(u() * items.length))]!;
}

export function sampleEpisode(profile: ProfileFile, split: Split, index: number, baseSeed: number, o: EpisodeOptions): SimScenario {
  const seed = deriveSeed(baseSeed, 'episode', split, index);
  const u = uniforms(seed);
  const [lo, hi] = o.loadRange ?? [0.3, 1.1];
  const models = o.models ?? Object.keys(profile.models);
  const model = pick(u, models);
  const m = modelOf(profile, model);
  const n = pick(u, [2, 2, 3, 4, 4, 6, 8]);
  const mix = u();
  const speeds = Array.from({ length: n }, (_, i) => {
    if (mix < 0.3) return 1;                                 // equal instances
    if (mix < 0.7) return i < Math.ceil(n / 2) ? 1 : pick(u, [2, 3, 4]);  // a fast and a slow class
    return pick(u, [1, 1.5, 2, 3, 4]);                       // a spread of speeds
  });
  const kind = u();
  let process: SimScenario['process'];
  if (kind < 0.2) process = 'poisson';
  else if (kind < 0.5) process = `gamma:${(1.5 + 6.5 * u()).toFixed(2)}`;
  else if (kind < 0.75 || !o.trace) {
    const peak = 3 + 7 * u(), on = 0.2 + 0.8 * u();
    process = `mmpp:peak=${peak.toFixed(2)},on=${on.toFixed(3)},off=${(on * (peak - 1) * (1 + u())).toFixed(3)}`;
  } else process = { traceS: traceWindow(o.trace, split, o.requests, u) };
  const fastest = Math.min(...instanceCurves(m, speeds).map((c) => c[0]!));
  const delayUs = u() < 0.3 ? 2 * fastest * u() : m.maxQueueDelayUs;
  const sloMs = ((5 + 15 * u()) * (fastest + m.overheadUs + delayUs)) / 1000;
  return {
    model,
    speeds,
    process,
    load: lo + (hi - lo) * u(),
    sloMs,
    sloToPolicy: u() < 0.8,
    requests: o.requests,
    maxQueueDelayUs: delayUs,
    noiseCv: u() < 0.5 ? undefined : 0.02 + 0.25 * u(),
    queueTimeoutMs: u() < 0.2 ? 2 * sloMs : undefined,
    seed,
  };
}
