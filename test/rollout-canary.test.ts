/**
 * Canary rollouts on a fake clock: a good candidate is promoted step by step; a slower one, one that fails
 * on some inputs, and one whose predictions drift are rolled back within the first analysis window, with
 * the failing guard in the reason; clients only ever see the answering arm's own result.
 */
import { describe, expect, it } from 'vitest';
import type { InferOutputs } from '../src/api-types.js';
import { ExecutionFailedError } from '../src/errors.js';
import { RolloutController, type RolloutHost, type RolloutTransition } from '../src/rollout/rollout-controller.js';
import { parseRolloutSpec } from '../src/rollout/rollout-spec.js';

interface ArmBehaviour {
  latencyMs: (i: number) => number;
  fails?: (x: number) => boolean;
  shift?: number;
}

/** A host whose versions answer after a fake delay: the clock moves inside `serve`, before the answer settles. */
function fakeHost(arms: Record<number, ArmBehaviour>) {
  const clock = { t: 0 };
  const served: Record<number, number> = {};
  const transitions: RolloutTransition[] = [];
  let n = 0;
  const host: RolloutHost = {
    now: () => clock.t,
    isReady: (v) => v in arms,
    lowestPriority: () => 0,
    onTransition: (e) => transitions.push(e),
    serve: (version, inputs) => {
      const arm = arms[version]!;
      served[version] = (served[version] ?? 0) + 1;
      const x = (inputs['x']!.data as Float32Array)[0]!;
      clock.t += arm.latencyMs(n++);
      if (arm.fails?.(x)) return Promise.reject(new ExecutionFailedError('Gather: index out of bounds'));
      const y = Float32Array.of(x * 0.5 + (arm.shift ?? 0));
      return Promise.resolve({ y: { type: 'FP32', dims: [1, 1], data: y } } as InferOutputs);
    },
  };
  return { host, clock, served, transitions };
}

/** Drives `requests` sequential requests, one every `gapMs`, ticking the controller after each. */
async function drive(c: RolloutController, f: ReturnType<typeof fakeHost>, requests: number, gapMs = 5) {
  const failures: { version: number; code: string }[] = [];
  let seed = 1;
  for (let i = 0; i < requests && c.phase === 'progressing'; i++) {
    seed = (seed * 48271) % 2147483647;
    const x = (seed / 2147483647) * 10; // uniform in [0, 10)
    const { version, outputs } = c.serve({ x: { data: Float32Array.of(x), dims: [1, 1] } }, undefined);
    await outputs.catch((err) => failures.push({ version, code: err.code }));
    f.clock.t += gapMs;
    c.tick();
  }
  return failures;
}

const SPEC = { strategy: 'canary', stable: '1', candidate: '2', steps: [10, 50, 100], stepSeconds: 3, seed: 7 };
const fast = { latencyMs: () => 2 };

describe('canary spec', () => {
  it('the minimal HTTP spec gets the default guards', () => {
    const spec = parseRolloutSpec(SPEC);
    expect(spec).toMatchObject({ strategy: 'canary', stable: 1, candidate: 2, steps: [10, 50, 100], stepSeconds: 3 });
    expect(spec.guards).toEqual({ maxErrorRateIncrease: 0.02, maxP99Ratio: 1.5, p99SlackMs: 5, maxSloAttainmentDrop: 0.05, maxPredictionDrift: 0.2, driftAlpha: 0.001, latencyAlpha: 0.01, minRequests: 20 });
  });

  it('a user overrides one guard and keeps the others', () => {
    const spec = parseRolloutSpec({ ...SPEC, guards: { maxP99Ratio: 3, sloMs: 40 } });
    expect(spec.guards.maxP99Ratio).toBe(3);
    expect(spec.guards.sloMs).toBe(40);
    expect(spec.guards.minRequests).toBe(20);
  });

  it.each([
    ['an unknown field (bad input)', { ...SPEC, stpes: [1] }, /unknown field\(s\) stpes/],
    ['steps that do not end at 100 (bad input)', { ...SPEC, steps: [10, 50] }, /must end at 100/],
    ['steps that do not ascend (bad input)', { ...SPEC, steps: [50, 10, 100] }, /must ascend/],
    ['the same version twice (bad input)', { ...SPEC, candidate: 1 }, /must differ/],
    ['an unknown strategy (bad input)', { ...SPEC, strategy: 'blue-green' }, /strategy: must be one of canary, ab, shadow/],
    ['a misspelled guard (bad input)', { ...SPEC, guards: { maxP99: 2 } }, /guards: unknown field\(s\) maxP99/],
    ['a version that is not a number (bad input)', { ...SPEC, stable: 'v1' }, /stable: must be a version number/],
  ])('rejects %s', (_label, input, message) => {
    let err: { code?: string; message: string } | undefined;
    try {
      parseRolloutSpec(input);
    } catch (e) {
      err = e as { code: string; message: string };
    }
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toMatch(message);
  });
});

describe('canary analysis', () => {
  it('promotes a good candidate through every step, and then sends it everything', async () => {
    const f = fakeHost({ 1: fast, 2: fast });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    const failures = await drive(c, f, 5000);
    expect(failures).toEqual([]);
    expect(c.phase).toBe('promoted');
    const s = c.state();
    expect(s.weights).toEqual({ stable: 0, candidate: 100 });
    expect(s.timeline.map((e) => [e.event, e.candidateWeight])).toEqual([['start', 10], ['step', 50], ['step', 100], ['promote', 100]]);
    expect(f.transitions.at(-1)).toMatchObject({ phase: 'promoted', candidateWeight: 100 });
    expect(c.choose()).toBe(2);
    // At the 100% step about 10% of the requests were mirrored to the stable version: a same-time baseline.
    expect(s.arms.stable.window.requests / s.arms.candidate.window.requests).toBeGreaterThan(0.05);
    expect(s.arms.stable.window.requests / s.arms.candidate.window.requests).toBeLessThan(0.15);
  });

  it('rolls back a slower candidate within the first window, naming the p99 guard', async () => {
    const f = fakeHost({ 1: fast, 2: { latencyMs: () => 25 } });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    const failures = await drive(c, f, 5000);
    expect(failures).toEqual([]);
    expect(c.phase).toBe('rolled_back');
    expect(c.state().reason).toMatch(/^step 1\/3 \(10%\): guard p99 failed: p99 \(read as p95\.0 over 20 answers\) 25\.\d+ ms vs 1\.5 x stable 2\.\d+ ms \+ 5 ms; slower in \d+ of \d+ time blocks, sign test p=/);
    expect(c.state().timeline.at(-1)!.atMs).toBeLessThan(3000);
    expect(f.transitions.at(-1)).toMatchObject({ phase: 'rolled_back', guard: 'p99', candidateWeight: 0 });
    expect(c.choose()).toBe(1);
  });

  it('does not roll back for one slow outlier when the candidate is as fast as a whole (rank test)', async () => {
    let candidateCalls = 0;
    const f = fakeHost({ 1: { latencyMs: (i) => 2 + (i % 3) }, 2: { latencyMs: (i) => (++candidateCalls === 5 ? 200 : 2 + (i % 3)) } });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    await drive(c, f, 5000);
    expect(c.phase).toBe('promoted');
  });

  it('rolls back a candidate that fails on some inputs; only its own share of requests failed', async () => {
    const f = fakeHost({ 1: fast, 2: { ...fast, fails: (x) => x > 8 } });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    const failures = await drive(c, f, 5000);
    expect(c.phase).toBe('rolled_back');
    expect(c.state().reason).toMatch(/guard errors failed: error rate .*EXECUTION_FAILED/);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((x) => x.version === 2 && x.code === 'EXECUTION_FAILED')).toBe(true);
    expect(c.state().arms.candidate.total.errors['EXECUTION_FAILED']).toBe(failures.length);
    expect(c.state().timeline.at(-1)!.atMs).toBeLessThan(3000);
  });

  it('rolls back a candidate whose predictions drift from the stable ones on the same traffic', async () => {
    const f = fakeHost({ 1: fast, 2: { ...fast, shift: 1.5 } });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    await drive(c, f, 5000);
    expect(c.phase).toBe('rolled_back');
    expect(c.state().reason).toMatch(/guard prediction_drift failed: KS distance of predictions 0\.\d+/);
    expect(c.state().timeline.at(-1)!.atMs).toBeLessThan(3000);
  });

  it('rolls back on an SLO attainment drop when the SLO is set', async () => {
    const f = fakeHost({ 1: { latencyMs: () => 8 }, 2: { latencyMs: (i) => (i % 4 === 0 ? 12 : 8) } });
    const c = new RolloutController('m', parseRolloutSpec({ ...SPEC, guards: { sloMs: 10, maxP99Ratio: 10 } }), f.host);
    await drive(c, f, 5000);
    expect(c.phase).toBe('rolled_back');
    expect(c.state().reason).toMatch(/guard slo failed: SLO 10 ms attainment/);
  });

  it('waits past the window for enough answers instead of passing a step blind', async () => {
    const f = fakeHost({ 1: fast, 2: fast });
    const c = new RolloutController('m', parseRolloutSpec({ ...SPEC, steps: [1, 100] }), f.host);
    await drive(c, f, 500); // 3.5 s, about 5 candidate answers at 1%
    expect(c.phase).toBe('progressing');
    expect(c.state().reason).toMatch(/window over, waiting for 20 answers per arm \(candidate \d+, stable \d+\)/);
  });

  it('rolls back when the candidate version is no longer loaded', () => {
    const arms: Record<number, ArmBehaviour> = { 1: fast, 2: fast };
    const f = fakeHost(arms);
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    delete arms[2];
    expect(c.choose()).toBe(1);
    c.tick();
    expect(c.phase).toBe('rolled_back');
    expect(c.state().reason).toBe('candidate version 2 is not loaded');
  });

  it('pause freezes the weight, resume restarts the step, promote and rollback are final', async () => {
    const f = fakeHost({ 1: fast, 2: fast });
    const c = new RolloutController('m', parseRolloutSpec(SPEC), f.host);
    c.control('pause');
    f.clock.t += 10_000;
    c.tick();
    expect(c.state()).toMatchObject({ phase: 'paused', weights: { candidate: 10 } });
    c.control('resume');
    expect(c.state()).toMatchObject({ phase: 'progressing', step: { index: 1, elapsedSeconds: 0 } });
    c.control('rollback');
    c.control('resume');
    c.control('promote');
    expect(c.state()).toMatchObject({ phase: 'rolled_back', reason: 'rolled back by the operator', weights: { candidate: 0 } });
  });
});
