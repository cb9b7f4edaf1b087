/**
 * The analysis of a canary step: each guard read on the candidate's window against the stable arm's
 * window over the same traffic mix. Pure: the controller decides what a failure means (rollback).
 */
import { ArmWindow, RESERVOIR_ELEMENTS, round } from './arm-window.js';
import type { CanaryGuards } from './rollout-spec.js';
import { ksTestSorted, mannWhitneyGreater, signTestGreater } from './significance.js';

export type GuardName = 'errors' | 'p99' | 'slo' | 'prediction_drift';

export interface GuardReading {
  guard: GuardName;
  /** `skipped`: the guard cannot be read (no SLO, no numeric output, too few answers). */
  status: 'pass' | 'fail' | 'skipped';
  candidate: number;
  stable: number;
  /** The bound the candidate's value is held to. */
  limit: number;
  detail: string;
}

/**
 * Median latency and SLO-miss share of each arm per time block of the window, for the blocks where both arms
 * answered. A host stall slows every request in flight, whichever arm: latencies are not independent samples,
 * so the latency guards confirm with a sign test over these pairs (is the candidate slower, or missing the SLO
 * more, in most blocks?), not with a test that assumes independent answers.
 */
export interface BlockPair {
  stable: { median: number; missRate: number };
  candidate: { median: number; missRate: number };
}
export type BlockPairs = readonly BlockPair[];

/** Reads every guard on one window of both arms; both must hold at least `minRequests` judged answers to be read. */
export function analyzeStep(stable: ArmWindow, candidate: ArmWindow, guards: CanaryGuards, blocks: BlockPairs = []): GuardReading[] {
  return [
    errorGuard(stable, candidate, guards),
    p99Guard(stable, candidate, guards, slowerTest(stable, candidate, blocks, 'median')),
    sloGuard(stable, candidate, guards, slowerTest(stable, candidate, blocks, 'missRate')),
    driftGuard(stable, candidate, guards),
  ];
}

interface SlowerTest { pValue: number; detail: string }

/**
 * Whether the candidate is slower as a whole: the sign test over time blocks when there are any (the candidate
 * slower in k of n blocks), else (no block yet holds answers of both arms) a one-sided Mann-Whitney test.
 */
function slowerTest(stable: ArmWindow, candidate: ArmWindow, blocks: BlockPairs, by: 'median' | 'missRate'): SlowerTest {
  if (blocks.length > 0) {
    const k = blocks.filter((b) => b.candidate[by] > b.stable[by]).length;
    const n = blocks.filter((b) => b.candidate[by] !== b.stable[by]).length;
    const pValue = signTestGreater(k, n);
    const what = by === 'median' ? 'slower' : 'more SLO misses';
    return { pValue, detail: `${what} in ${k} of ${n} time blocks, sign test p=${pValue.toExponential(2)}` };
  }
  const pValue = mannWhitneyGreater(stable.sortedLatencies(), candidate.sortedLatencies()).pValue;
  return { pValue, detail: `rank test p=${pValue.toExponential(2)}` };
}

function errorGuard(stable: ArmWindow, candidate: ArmWindow, g: CanaryGuards): GuardReading {
  const c = candidate.errorRate();
  const s = stable.errorRate();
  const limit = s + g.maxErrorRateIncrease;
  const codes = Object.entries(candidate.errors).map(([k, n]) => `${k} ${n}`).join(', ');
  // Errors fail a step before `minRequests` answers once the excess is certain: more errors (at least 3)
  // than `minRequests` answers may hold.
  const certain = candidate.armErrors >= 3 && candidate.armErrors > limit * g.minRequests;
  const status = candidate.judged >= g.minRequests || certain ? (c > limit ? 'fail' : 'pass') : 'skipped';
  return reading('errors', status, c, s, limit,
    `error rate ${pct(c)} (${candidate.armErrors}/${candidate.judged}${codes ? `: ${codes}` : ''}) vs stable ${pct(s)} + ${pct(g.maxErrorRateIncrease)}`);
}

/**
 * The p99 of n < 100 answers is their maximum, which one outlier sets: both arms are then read at the
 * same quantile 1 - 1/n of the smaller sample (p95 for 20 answers), so the comparison stays like for like.
 */
function p99Guard(stable: ArmWindow, candidate: ArmWindow, g: CanaryGuards, slower: SlowerTest): GuardReading {
  const n = Math.min(candidate.judged, stable.judged);
  const q = Math.min(0.99, Math.max(0.5, 1 - 1 / Math.max(1, n)));
  const c = candidate.quantileMs(q);
  const s = stable.quantileMs(q);
  const limit = s * g.maxP99Ratio + g.p99SlackMs;
  // A tail over the limit fails only when the candidate is also slower as a whole: on a busy host one
  // arm's tail alone is often a scheduler stall that hit its few requests.
  const status = enough(stable, candidate, g) ? (c > limit && slower.pValue < g.latencyAlpha ? 'fail' : 'pass') : 'skipped';
  const label = q === 0.99 ? 'p99' : `p99 (read as p${(q * 100).toFixed(1)} over ${n} answers)`;
  const test = c > limit ? `; ${slower.detail} (alpha ${g.latencyAlpha})` : '';
  return reading('p99', status, c, s, limit, `${label} ${c.toFixed(2)} ms vs ${g.maxP99Ratio} x stable ${s.toFixed(2)} ms + ${g.p99SlackMs} ms${test}`);
}

function sloGuard(stable: ArmWindow, candidate: ArmWindow, g: CanaryGuards, slower: SlowerTest): GuardReading {
  if (g.sloMs === undefined) return reading('slo', 'skipped', 0, 0, 0, 'no SLO (set guards.sloMs or the model parameter slo_ms)');
  const c = candidate.judged === 0 ? 1 : candidate.sloHits / candidate.judged;
  const s = stable.judged === 0 ? 1 : stable.sloHits / stable.judged;
  const limit = s - g.maxSloAttainmentDrop;
  const status = enough(stable, candidate, g) ? (c < limit && slower.pValue < g.latencyAlpha ? 'fail' : 'pass') : 'skipped';
  const test = c < limit ? `; ${slower.detail} (alpha ${g.latencyAlpha})` : '';
  return reading('slo', status, c, s, limit, `SLO ${g.sloMs} ms attainment ${pct(c)} vs stable ${pct(s)} - ${pct(g.maxSloAttainmentDrop)}${test}`);
}

function driftGuard(stable: ArmWindow, candidate: ArmWindow, g: CanaryGuards): GuardReading {
  const elements = Math.min(stable.reservoir.length, candidate.reservoir.length, RESERVOIR_ELEMENTS);
  if (elements === 0 || !enough(stable, candidate, g)) {
    return reading('prediction_drift', 'skipped', 0, 0, g.maxPredictionDrift, elements === 0 ? 'no numeric output sampled yet' : 'too few answers');
  }
  let worst = { d: 0, p: 1, e: 0 };
  for (let e = 0; e < elements; e++) {
    const t = ksTestSorted(stable.sortedOutputs(e), candidate.sortedOutputs(e));
    if (t.statistic > worst.d) worst = { d: t.statistic, p: t.pValue, e };
  }
  const alpha = g.driftAlpha / elements;
  const status = worst.d > g.maxPredictionDrift && worst.p < alpha ? 'fail' : 'pass';
  return reading('prediction_drift', status, worst.d, 0, g.maxPredictionDrift,
    `KS distance of predictions ${worst.d.toFixed(3)} (element ${worst.e}, p=${worst.p.toExponential(2)}, alpha ${alpha.toExponential(2)})`);
}

function enough(stable: ArmWindow, candidate: ArmWindow, g: CanaryGuards): boolean {
  return candidate.judged >= g.minRequests && stable.judged >= g.minRequests;
}

function reading(guard: GuardName, status: GuardReading['status'], candidate: number, stable: number, limit: number, detail: string): GuardReading {
  return { guard, status, candidate: round(candidate), stable: round(stable), limit: round(limit), detail };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
