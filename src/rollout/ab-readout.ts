/**
 * The A/B significance readout: the named metric on each arm, the difference, and the two-sided p-value of
 * the matching test (two-proportion z-test for rates, Welch's test for means).
 */
import { ArmWindow, round } from './arm-window.js';
import type { AbMetric } from './rollout-spec.js';
import { twoProportionTest, welchTest, type TestResult } from './significance.js';

export interface AbReadout {
  metric: AbMetric;
  stable: number;
  candidate: number;
  /** candidate - stable. */
  difference: number;
  pValue: number;
  /** p < 0.05. */
  significant: boolean;
  test: 'two-proportion z' | 'welch';
}

export function abReadout(metric: AbMetric, stable: ArmWindow, candidate: ArmWindow): AbReadout {
  let a: number;
  let b: number;
  let t: TestResult;
  let test: AbReadout['test'] = 'welch';
  if (metric === 'error_rate' || metric === 'slo_attainment') {
    test = 'two-proportion z';
    const hits = (w: ArmWindow) => (metric === 'error_rate' ? w.armErrors : w.sloHits);
    a = stable.judged === 0 ? 0 : hits(stable) / stable.judged;
    b = candidate.judged === 0 ? 0 : hits(candidate) / candidate.judged;
    t = twoProportionTest(hits(stable), stable.judged, hits(candidate), candidate.judged);
  } else {
    const ma = metric === 'latency_ms' ? stable.latencyMoments() : stable.outputMoments();
    const mb = metric === 'latency_ms' ? candidate.latencyMoments() : candidate.outputMoments();
    a = ma.mean;
    b = mb.mean;
    t = welchTest(ma, mb);
  }
  return { metric, stable: round(a), candidate: round(b), difference: round(b - a), pValue: round(t.pValue, 6), significant: t.pValue < 0.05, test };
}
