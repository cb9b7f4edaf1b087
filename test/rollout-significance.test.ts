/** The statistical tests behind rollout guards and drift: known values, and the direction of one-sided tests. */
import { describe, expect, it } from 'vitest';
import { ksTestSorted, mannWhitneyGreater, normalCdf, signTestGreater, twoProportionTest, welchTest } from '../src/rollout/significance.js';

describe('significance', () => {
  it('normal CDF at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });

  it('KS: identical samples give D = 0, disjoint ones D = 1 with a tiny p', () => {
    const a = Float64Array.from({ length: 50 }, (_, i) => i);
    expect(ksTestSorted(a, a)).toEqual({ statistic: 0, pValue: 1 });
    const b = Float64Array.from({ length: 50 }, (_, i) => 100 + i);
    const t = ksTestSorted(a, b);
    expect(t.statistic).toBe(1);
    expect(t.pValue).toBeLessThan(1e-10);
  });

  it('Mann-Whitney is one-sided: larger b rejects, smaller b does not', () => {
    const a = Float64Array.from({ length: 40 }, (_, i) => i);
    const larger = Float64Array.from({ length: 40 }, (_, i) => i + 15);
    expect(mannWhitneyGreater(a, larger).pValue).toBeLessThan(0.01);
    expect(mannWhitneyGreater(larger, a).pValue).toBeGreaterThan(0.99);
    expect(mannWhitneyGreater(a, a).pValue).toBeCloseTo(0.5, 5);
  });

  it('two-proportion and Welch tests', () => {
    expect(twoProportionTest(10, 1000, 10, 1000).pValue).toBeCloseTo(1, 6);
    expect(twoProportionTest(10, 1000, 40, 1000).pValue).toBeLessThan(0.001);
    expect(welchTest({ n: 100, mean: 1, variance: 1 }, { n: 100, mean: 1.5, variance: 1 }).pValue).toBeCloseTo(0.000407, 4);
  });

  it('sign test tail probabilities', () => {
    expect(signTestGreater(7, 7)).toBeCloseTo(1 / 128, 10);
    expect(signTestGreater(9, 10)).toBeCloseTo(11 / 1024, 10);
    expect(signTestGreater(0, 10)).toBe(1);
    expect(signTestGreater(5, 10)).toBeCloseTo(638 / 1024, 10);
  });
});
