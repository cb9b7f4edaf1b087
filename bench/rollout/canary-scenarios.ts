/**
 * The canary scenarios of `npm run bench -- rollout`: version 1 serves; version 2 enters as a canary with the
 * issue's spec (steps 10/50/100 %, 3 s windows, default guards) under open-loop Poisson load. A good
 * candidate must be promoted; a slower one, one that fails on ~10 % of inputs, and one whose predictions
 * drift must be rolled back within one analysis window. Client failures are split into the candidate's
 * own errors (in its share) and everything else, which must be zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import type { RolloutScorerOptions } from '../../src/model-generator/onnx/rollout-scorer.js';
import { rolloutScorerConfig, writeRolloutModel } from '../../src/model-generator/rollout-repository.js';
import type { RolloutState } from '../../src/rollout/rollout-controller.js';
import { Rng } from '../rng.js';
import { openLoad, percentileMs, type Outcome } from './open-load.js';

export interface CanaryScenario {
  name: string;
  candidate: RolloutScorerOptions;
  /** What must happen. */
  expect: 'promoted' | 'rolled_back';
}

export const CANARY_SCENARIOS: readonly CanaryScenario[] = [
  { name: 'good', candidate: { scale: 0.5, shift: 1e-4 }, expect: 'promoted' },
  { name: 'slower', candidate: { workSize: 640 }, expect: 'rolled_back' },
  { name: 'errors', candidate: { failAtOrAbove: 9 }, expect: 'rolled_back' },
  { name: 'drift', candidate: { shift: 1.5 }, expect: 'rolled_back' },
];

export const ISSUE_SPEC = { strategy: 'canary', stable: '1', candidate: '2', steps: [10, 50, 100], stepSeconds: 3 } as const;

export interface TimelinePoint { scenario: string; ms: number; candidateWeight: number; phase: string }

export interface CanaryResult {
  scenario: string;
  expected: string;
  phase: string;
  met: boolean;
  reason: string;
  /** ms from the start to the rollout's final decision (undefined: none within the run). */
  decidedAtMs?: number;
  /** Step (1-based) in which the decision fell, and ms into that step's window. */
  decidedInStep?: number;
  msIntoStep?: number;
  requests: number;
  /** Failed requests the candidate answered with its own error (its share). */
  candidateErrors: number;
  /** Failed requests for any other reason: must be 0. */
  otherFailures: number;
  stableP99Ms: number;
  candidateP99Ms: number;
  timeline: TimelinePoint[];
  state: RolloutState;
}

export async function runCanaryScenario(s: CanaryScenario, rate: number, seed: number, stepSeconds: number): Promise<CanaryResult> {
  const root = mkdtempSync(join(tmpdir(), 'serval-bench-rollout-'));
  writeRolloutModel(root, 'scorer', { 1: {}, 2: s.candidate }, rolloutScorerConfig());
  const rt = await Runtime.open({ modelRepository: root });
  try {
    const spec = { ...ISSUE_SPEC, stepSeconds, seed };
    rt.rollout('scorer', spec);
    const rng = new Rng(seed);
    const inputs = new Rng(seed).fork('inputs');
    const timeline: TimelinePoint[] = [];
    const done = () => rt.rolloutState('scorer')!.phase !== 'progressing';
    const outcomes: Outcome[] = await openLoad({
      rate, rng, durationMs: (spec.steps.length * stepSeconds + 3) * 1000,
      send: () => rt.inferServed('scorer', { x: { data: Float32Array.from({ length: 4 }, () => inputs.next() * 10), dims: [1, 4] } }),
      until: done,
      onSample: (ms) => {
        const st = rt.rolloutState('scorer')!;
        timeline.push({ scenario: s.name, ms, candidateWeight: st.weights.candidate, phase: st.phase });
      },
    });
    const state = rt.rolloutState('scorer')!;
    const decision = state.timeline.find((e) => e.event === 'promote' || e.event === 'rollback');
    if (decision) timeline.push({ scenario: s.name, ms: decision.atMs, candidateWeight: decision.candidateWeight, phase: decision.phase });
    const stepStarts = state.timeline.filter((e) => e.event === 'start' || e.event === 'step').map((e) => e.atMs);
    const stepIndex = decision ? stepStarts.filter((t) => t <= decision.atMs).length : undefined;
    const candidateErrors = outcomes.filter((o) => o.code && o.version === 2 && o.code === 'EXECUTION_FAILED').length;
    return {
      scenario: s.name,
      expected: s.expect,
      phase: state.phase,
      met: state.phase === s.expect && (s.expect === 'promoted' || (decision !== undefined && decision.atMs - stepStarts[stepIndex! - 1]! <= stepSeconds * 1000)),
      reason: state.reason,
      ...(decision ? { decidedAtMs: decision.atMs, decidedInStep: stepIndex, msIntoStep: decision.atMs - stepStarts[stepIndex! - 1]! } : {}),
      requests: outcomes.length,
      candidateErrors,
      otherFailures: outcomes.filter((o) => o.code).length - candidateErrors,
      stableP99Ms: percentileMs(outcomes.filter((o) => o.version === 1), 99),
      candidateP99Ms: percentileMs(outcomes.filter((o) => o.version === 2), 99),
      timeline,
      state,
    };
  } finally {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  }
}
