/**
 * Statistical tests shared by rollout analysis and drift monitoring: the normal CDF, the two-proportion
 * z-test, Welch's t-test (normal approximation), and the two-sample Kolmogorov-Smirnov test with its
 * asymptotic p-value. Pure functions over numbers; no allocation beyond what the caller passes.
 */

/** Φ(x), the standard normal CDF (Abramowitz-Stegun 7.1.26 erf approximation, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 1 : 0;
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

export interface TestResult {
  /** The test statistic (z for proportions and means, D for Kolmogorov-Smirnov). */
  statistic: number;
  pValue: number;
}

/** Two-proportion z-test of successes a/n vs b/m (pooled variance). p = 1 when either sample is empty. */
export function twoProportionTest(a: number, n: number, b: number, m: number): TestResult {
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  const pooled = (a + b) / (n + m);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const z = (b / m - a / n) / se;
  return { statistic: z, pValue: twoSidedP(z) };
}

/** Sample moments as Welch's test takes them. */
export interface Moments { n: number; mean: number; variance: number }

/** Welch's t-test of the means; the statistic is read against the normal distribution (samples of 30+). */
export function welchTest(a: Moments, b: Moments): TestResult {
  if (a.n < 2 || b.n < 2) return { statistic: 0, pValue: 1 };
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  if (se === 0) return { statistic: 0, pValue: a.mean === b.mean ? 1 : 0 };
  const t = (b.mean - a.mean) / se;
  return { statistic: t, pValue: twoSidedP(t) };
}

/**
 * Q_KS(λ) = 2 Σ_{j≥1} (-1)^{j-1} exp(-2 j² λ²): the probability that the Kolmogorov statistic exceeds λ.
 * The series converges fast for λ > 0.3; below that Q is 1 to within 1e-9.
 */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.3) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += j % 2 === 1 ? term : -term;
    if (term < 1e-12) break;
  }
  return Math.max(0, Math.min(1, 2 * sum));
}

/** Asymptotic p-value of a two-sample KS statistic D with sample sizes n and m (Stephens' small-sample correction). */
export function ksPValue(d: number, n: number, m: number): number {
  if (n === 0 || m === 0) return 1;
  const ne = Math.sqrt((n * m) / (n + m));
  return kolmogorovQ((ne + 0.12 + 0.11 / ne) * d);
}

/** Two-sample KS test over two ascending-sorted samples. */
export function ksTestSorted(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < n && a[i]! <= x) i++;
    while (j < m && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return { statistic: d, pValue: ksPValue(d, n, m) };
}

/**
 * One-sided Mann-Whitney U test that `b` tends to be larger than `a` (normal approximation with a tie
 * correction of the ranks; both inputs ascending-sorted). p = 1 when either sample is empty.
 */
export function mannWhitneyGreater(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  // Rank sum of b over the merged order; ties share their mean rank.
  let i = 0;
  let j = 0;
  let rank = 0;
  let rankSumB = 0;
  let tieTerm = 0;
  while (i < n || j < m) {
    const x = j >= m || (i < n && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let inA = 0;
    let inB = 0;
    while (i < n && a[i]! === x) { i++; inA++; }
    while (j < m && b[j]! === x) { j++; inB++; }
    const t = inA + inB;
    rankSumB += inB * (rank + (t + 1) / 2);
    rank += t;
    tieTerm += t * t * t - t;
  }
  const u = rankSumB - (m * (m + 1)) / 2;
  const mean = (n * m) / 2;
  const total = n + m;
  const variance = ((n * m) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (variance <= 0) return { statistic: 0, pValue: 1 };
  const z = (u - mean) / Math.sqrt(variance);
  return { statistic: z, pValue: 1 - normalCdf(z) };
}

/** One-sided sign test: P(X >= k) for X ~ Binomial(n, 1/2). */
export function signTestGreater(k: number, n: number): number {
  if (n === 0 || k <= 0) return 1;
  let term = 2 ** -n; // P(X = 0)
  let tail = k === 0 ? term : 0;
  for (let i = 1; i <= n; i++) {
    term *= (n - i + 1) / i;
    if (i >= k) tail += term;
  }
  return Math.min(1, tail);
}
