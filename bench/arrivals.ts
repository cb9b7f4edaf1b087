/**
 * Arrival processes for open-loop load: when each request is *intended* to be sent. Every process is driven by
 * a seeded `Rng`, so two runs with the same seed (one per placement policy, say) see the same sequence.
 *
 * Spec strings (`--arrivals`):
 * - `constant`: evenly spaced, gap 1/rate.
 * - `poisson`: exponential gaps (CV 1).
 * - `gamma:CV`: gamma-distributed gaps with mean 1/rate and coefficient of variation CV (CV 1 is Poisson).
 * - `mmpp[:peak=P,on=S,off=S]`: an on/off Markov-modulated Poisson process. During "on" periods (mean S
 *   seconds, exponential) requests arrive at P × the mean rate; the "off" rate is whatever keeps the overall
 *   mean at `rate` (zero for the default `peak=8,on=0.5,off=3.5`).
 */
import { invalidArgument } from './errors.js';
import { parsePositiveNumber as positiveNumber, splitOnce } from './parse.js';
import type { Rng } from './rng.js';

export type ArrivalSpec =
  | { kind: 'constant' }
  | { kind: 'poisson' }
  | { kind: 'gamma'; cv: number }
  | { kind: 'mmpp'; peak: number; onSeconds: number; offSeconds: number };

export const DEFAULT_MMPP = { peak: 8, onSeconds: 0.5, offSeconds: 3.5 } as const;

export function parseArrivalSpec(text: string): ArrivalSpec {
  const [kind, rest] = splitOnce(text.trim(), ':');
  switch (kind) {
    case 'constant':
    case 'poisson':
      if (rest !== undefined) throw invalidArgument(`--arrivals ${kind} takes no parameters, got '${text}'`);
      return { kind };
    case 'gamma':
      if (rest === undefined) throw invalidArgument(`--arrivals gamma needs a coefficient of variation, e.g. gamma:4`);
      return { kind, cv: positiveNumber(rest, 'gamma CV') };
    case 'mmpp': {
      const spec: Extract<ArrivalSpec, { kind: 'mmpp' }> = { kind: 'mmpp', ...DEFAULT_MMPP };
      for (const part of rest ? rest.split(',') : []) {
        const [key, value] = splitOnce(part, '=');
        if (value === undefined) throw invalidArgument(`--arrivals mmpp parameters are key=value (peak, on, off), got '${part}'`);
        if (key === 'peak') spec.peak = positiveNumber(value, 'mmpp peak');
        else if (key === 'on') spec.onSeconds = positiveNumber(value, 'mmpp on');
        else if (key === 'off') spec.offSeconds = positiveNumber(value, 'mmpp off');
        else throw invalidArgument(`unknown mmpp parameter '${key}' (expected peak, on, off)`);
      }
      if (spec.peak < 1) throw invalidArgument(`mmpp peak must be >= 1, got ${spec.peak}`);
      if (spec.peak * spec.onSeconds > spec.onSeconds + spec.offSeconds + 1e-9) {
        throw invalidArgument(
          `mmpp peak=${spec.peak} with on=${spec.onSeconds}s cannot keep the mean rate: need peak*on <= on+off`,
        );
      }
      return spec;
    }
    default:
      throw invalidArgument(`unknown arrival process '${text}' (expected constant, poisson, gamma:CV or mmpp[:peak=P,on=S,off=S])`);
  }
}

export function formatArrivalSpec(spec: ArrivalSpec): string {
  switch (spec.kind) {
    case 'gamma': return `gamma:${spec.cv}`;
    case 'mmpp': return `mmpp:peak=${spec.peak},on=${spec.onSeconds},off=${spec.offSeconds}`;
    default: return spec.kind;
  }
}

/** A stream of arrival times in seconds since the start of the step; `undefined` once it is exhausted. */
export interface ArrivalSource {
  next(): number | undefined;
}

/** An endless arrival process at a mean rate (requests per second). */
export function arrivalSource(spec: ArrivalSpec, rate: number, rng: Rng): ArrivalSource & { readonly on?: boolean } {
  if (!(rate > 0)) throw invalidArgument(`request rate must be positive, got ${rate}`);
  let t = 0;
  switch (spec.kind) {
    case 'constant':
      return { next: () => (t += 1 / rate) - 1 / rate };
    case 'poisson':
      return { next: () => (t += rng.exponential(rate)) };
    case 'gamma': {
      const shape = 1 / (spec.cv * spec.cv);
      const scale = 1 / (rate * shape);
      return { next: () => (t += rng.gamma(shape, scale)) };
    }
    case 'mmpp':
      return new MmppSource(spec, rate, rng);
  }
}

/** On/off MMPP: exponential dwell times; within a state, Poisson arrivals at that state's rate. */
class MmppSource implements ArrivalSource {
  private t = 0;
  /** Whether the last arrival returned by `next()` fell in an "on" period (for tests and charts). */
  on: boolean;
  private stateEnd: number;
  private readonly onRate: number;
  private readonly offRate: number;

  constructor(private readonly spec: { peak: number; onSeconds: number; offSeconds: number }, rate: number, private readonly rng: Rng) {
    this.onRate = spec.peak * rate;
    const cycle = spec.onSeconds + spec.offSeconds;
    this.offRate = Math.max(0, (rate * cycle - this.onRate * spec.onSeconds) / spec.offSeconds);
    // Start in each state with its long-run probability so short runs are not biased towards "on".
    this.on = rng.next() < spec.onSeconds / cycle;
    this.stateEnd = rng.exponential(1 / (this.on ? spec.onSeconds : spec.offSeconds));
  }

  next(): number {
    for (;;) {
      const rate = this.on ? this.onRate : this.offRate;
      const candidate = rate > 0 ? this.t + this.rng.exponential(rate) : Infinity;
      if (candidate <= this.stateEnd) return (this.t = candidate);
      // No arrival before the state ends: jump to the boundary (memoryless, so redrawing is exact).
      this.t = this.stateEnd;
      this.on = !this.on;
      this.stateEnd = this.t + this.rng.exponential(1 / (this.on ? this.spec.onSeconds : this.spec.offSeconds));
    }
  }
}

/**
 * Replays arrival times (seconds, ascending, first at 0) sped up by `rateScale` (2 = twice the rate). With
 * `loop`, the trace starts over after its last arrival (one mean gap later), for as long as the step runs.
 */
export function traceSource(times: readonly number[], rateScale: number, loop = false): ArrivalSource {
  if (!(rateScale > 0)) throw invalidArgument(`--rate-scale must be positive, got ${rateScale}`);
  const span = times[times.length - 1];
  const period = span + span / Math.max(1, times.length - 1);
  let i = 0;
  let offset = 0;
  return {
    next: () => {
      if (i === times.length) {
        if (!loop) return undefined;
        i = 0;
        offset += period;
      }
      return (offset + times[i++]) / rateScale;
    },
  };
}
