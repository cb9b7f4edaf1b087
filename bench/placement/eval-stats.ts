/**
 * Statistics of the placement evaluation: per (scenario, policy, load) means over seeds with 95%
 * confidence intervals (Student t), the highest sustainable rate at 99% attainment per seed (linear
 * interpolation between the sweep's loads), and paired differences between the learned policy and each
 * baseline (same seeds, same arrivals).
 */

/** Two-sided 95% Student t quantiles by degrees of freedom. */
const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

export interface Estimate {
  mean: number;
  /** Half-width of the 95% confidence interval (NaN with one sample; Infinity when a sample is infinite). */
  ci: number;
  n: number;
}

export function estimate(xs: number[]): Estimate {
  const n = xs.length;
  if (n === 0) return { mean: NaN, ci: NaN, n };
  if (xs.some((x) => !Number.isFinite(x))) return { mean: Infinity, ci: Infinity, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci: NaN, n };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { mean, ci: (T95[Math.min(n - 1, T95.length - 1)] ?? 1.96) * (sd / Math.sqrt(n)), n };
}

/**
 * The highest load (same unit as `loads`) at which attainment stays >= `target`: interpolated between
 * the last load that meets it and the next that does not; the highest load when all do (a lower bound),
 * the lowest times its attainment / target when none does (a rough extrapolation, flagged by the caller).
 */
export function sustainableLoad(loads: number[], attainment: number[], target = 0.99): { value: number; bound: 'interpolated' | 'at-least' | 'below' } {
  const order = loads.map((l, i) => [l, attainment[i]!] as const).sort((a, b) => a[0] - b[0]);
  if (order[0]![1] < target) return { value: order[0]![0] * (order[0]![1] / target), bound: 'below' };
  for (let i = 1; i < order.length; i++) {
    const [l0, a0] = order[i - 1]!, [l1, a1] = order[i]!;
    if (a1 < target) return { value: l0 + ((a0 - target) / (a0 - a1)) * (l1 - l0), bound: 'interpolated' };
  }
  return { value: order.at(-1)![0], bound: 'at-least' };
}

export function fmtEstimate(e: Estimate, digits: number, scale = 1): string {
  if (Number.isNaN(e.mean)) return '–';
  if (!Number.isFinite(e.mean)) return '∞';
  const m = (e.mean * scale).toFixed(digits);
  return Number.isFinite(e.ci) ? `${m} ± ${(e.ci * scale).toFixed(digits)}` : m;
}
