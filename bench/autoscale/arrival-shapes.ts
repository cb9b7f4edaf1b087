/**
 * Seeded arrival sequences for the autoscaling comparison: a trace's shape at a chosen mean rate (its
 * per-second rate curve, time-compressed, driving a non-homogeneous Poisson process, so the bursts keep
 * their shape at rates the trace alone does not reach), and synthetic square-wave bursts.
 */
import { Rng } from '../rng.js';

/** Poisson arrivals whose rate in second k is rates[k] (requests per second). */
export function poissonFromRates(rates: readonly number[], seed: number): Float64Array {
  const rng = new Rng(seed);
  const out: number[] = [];
  rates.forEach((rate, k) => {
    if (!(rate > 0)) return;
    let t = k - Math.log(1 - rng.next()) / rate;
    while (t < k + 1) {
      out.push(t);
      t -= Math.log(1 - rng.next()) / rate;
    }
  });
  return Float64Array.from(out);
}

/** The trace's per-second arrival counts after compressing it into `durationS` seconds, scaled to `meanRate`. */
export function traceRates(traceTimesS: readonly number[], durationS: number, meanRate: number): number[] {
  const span = traceTimesS[traceTimesS.length - 1]! - traceTimesS[0]!;
  const counts = new Array<number>(Math.ceil(durationS)).fill(0);
  for (const t of traceTimesS) counts[Math.min(counts.length - 1, Math.floor(((t - traceTimesS[0]!) / span) * durationS))]!++;
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.map((c) => (c / mean) * meanRate);
}

/** `base` requests per second, `peak` during the first `burstS` of every `periodS`. */
export function burstRates(durationS: number, base: number, peak: number, burstS: number, periodS: number): number[] {
  return Array.from({ length: Math.ceil(durationS) }, (_, k) => ((k % periodS) >= periodS - burstS ? peak : base));
}
