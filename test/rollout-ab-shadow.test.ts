/**
 * A/B splits stick to the routing key and read out the significance of the named metric; shadow rollouts
 * answer from the stable arm only, compare the candidate's copies with it, and shed copies beyond their bound.
 */
import { describe, expect, it } from 'vitest';
import type { InferOptions, InferOutputs } from '../src/api-types.js';
import { RolloutController, routingBucket, type RolloutHost } from '../src/rollout/rollout-controller.js';
import { parseRolloutSpec } from '../src/rollout/rollout-spec.js';
import { compareOutputs } from '../src/rollout/shadow-compare.js';

const out = (...v: number[]): InferOutputs => ({ y: { type: 'FP32', dims: [1, v.length], data: Float32Array.from(v) } });
const input = { x: { data: Float32Array.of(1), dims: [1, 1] } };

function host(answer: (version: number, options: InferOptions | undefined) => Promise<InferOutputs>) {
  const calls: { version: number; options: InferOptions | undefined }[] = [];
  const h: RolloutHost = {
    now: () => 0,
    isReady: () => true,
    lowestPriority: () => 3,
    onTransition: () => {},
    serve: (version, _inputs, options) => {
      calls.push({ version, options });
      return answer(version, options);
    },
  };
  return { h, calls };
}

describe('A/B', () => {
  it('a routing key always lands on the same arm, and keys split near the weight', () => {
    const { h } = host(async () => out(1));
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'ab', stable: 1, candidate: 2, weight: 30 }), h);
    for (const key of ['alice', 'bob', 'carol']) {
      const first = c.choose(key);
      for (let i = 0; i < 20; i++) expect(c.choose(key)).toBe(first);
      expect(first).toBe(routingBucket(key) < 30 ? 2 : 1);
    }
    const share = Array.from({ length: 4000 }, (_, i) => c.choose(`user-${i}`)).filter((v) => v === 2).length / 4000;
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.33);
  });

  it('reads out a significant error-rate difference, and none between equal arms', async () => {
    for (const [failEvery, significant] of [[4, true], [0, false]] as const) {
      let n = 0;
      const { h } = host(async (v) => {
        n++;
        if (v === 2 && failEvery > 0 && n % failEvery === 0) throw Object.assign(new Error('boom'), { code: 'EXECUTION_FAILED' });
        return out(1);
      });
      const c = new RolloutController('m', parseRolloutSpec({ strategy: 'ab', stable: 1, candidate: 2, metric: 'error_rate', seed: 3 }), h);
      for (let i = 0; i < 800; i++) await c.serve(input, { routingKey: `k${i}` }).outputs.catch(() => {});
      const ab = c.state().ab!;
      expect(ab.metric).toBe('error_rate');
      expect(ab.stable).toBe(0);
      expect(ab.significant).toBe(significant);
      if (significant) expect(ab.pValue).toBeLessThan(0.001);
      expect(c.phase).toBe('progressing');
    }
  });

  it('reads out the mean of a named output per arm', async () => {
    const { h } = host(async (v) => out(v === 2 ? 0.6 + Math.random() * 0.01 : 0.5 + Math.random() * 0.01));
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'ab', stable: 1, candidate: 2, metric: 'output:y', seed: 1 }), h);
    for (let i = 0; i < 200; i++) await c.serve(input, undefined).outputs;
    const ab = c.state().ab!;
    expect(ab.stable).toBeCloseTo(0.505, 2);
    expect(ab.candidate).toBeCloseTo(0.605, 2);
    expect(ab.significant).toBe(true);
  });
});

describe('shadow', () => {
  it('answers from the stable arm only; the candidate gets a lowest-priority copy that is compared', async () => {
    const { h, calls } = host(async (v) => out(v === 2 ? 0.3 : 0.7, 0.3));
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'shadow', stable: 1, candidate: 2 }), h);
    for (let i = 0; i < 10; i++) {
      const { version, outputs } = c.serve(input, { priority: 1, outputs: ['y'] });
      expect(version).toBe(1);
      expect(Array.from((await outputs).y!.data as Float32Array)).toEqual([Math.fround(0.7), Math.fround(0.3)]);
    }
    await new Promise((r) => setImmediate(r));
    expect(calls.filter((x) => x.version === 2).map((x) => x.options)).toEqual(Array(10).fill({ priority: 3, timeoutMs: 1000, outputs: ['y'] }));
    const shadow = c.state().shadow!;
    expect(shadow).toMatchObject({ copies: 10, shed: 0, compared: 10, agreementRate: 0, candidateErrors: 0 });
    expect(shadow.meanAbsDistance).toBeCloseTo(0.2, 5);
    expect(c.state().weights).toEqual({ stable: 100, candidate: 0 });
  });

  it('sheds copies beyond maxInFlight and never fails or delays the stable answer', async () => {
    const pending: (() => void)[] = [];
    const { h } = host((v) => (v === 2 ? new Promise((resolve) => pending.push(() => resolve(out(1)))) : Promise.resolve(out(1))));
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'shadow', stable: 1, candidate: 2, shadow: { maxInFlight: 2 } }), h);
    for (let i = 0; i < 5; i++) await expect(c.serve(input, undefined).outputs).resolves.toEqual(out(1));
    expect(c.state().shadow).toMatchObject({ copies: 2, shed: 3, inFlight: 2 });
    pending.forEach((p) => p());
    await new Promise((r) => setImmediate(r));
    expect(c.state().shadow).toMatchObject({ inFlight: 0, compared: 2, agreementRate: 1 });
  });

  it('sheds copies first while the stable arm is backed up (more than maxStableInFlight unanswered)', async () => {
    const release: (() => void)[] = [];
    const { h, calls } = host((v) => (v === 1 ? new Promise((resolve) => release.push(() => resolve(out(1)))) : Promise.resolve(out(1))));
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'shadow', stable: 1, candidate: 2, shadow: { maxStableInFlight: 3 } }), h);
    const answers = Array.from({ length: 6 }, () => c.serve(input, undefined).outputs);
    expect(calls.filter((x) => x.version === 2)).toHaveLength(3);
    expect(c.state().shadow).toMatchObject({ copies: 3, shed: 3 });
    release.forEach((r) => r());
    await Promise.all(answers);
    c.serve(input, undefined);
    expect(c.state().shadow).toMatchObject({ copies: 4, shed: 3 });
  });

  it('counts a failing shadow copy against the candidate, never against the client', async () => {
    const { h } = host(async (v) => {
      if (v === 2) throw Object.assign(new Error('bad'), { code: 'EXECUTION_FAILED' });
      return out(1);
    });
    const c = new RolloutController('m', parseRolloutSpec({ strategy: 'shadow', stable: 1, candidate: 2 }), h);
    await expect(c.serve(input, undefined).outputs).resolves.toEqual(out(1));
    await new Promise((r) => setImmediate(r));
    expect(c.state().shadow).toMatchObject({ candidateErrors: 1, compared: 0 });
    expect(c.state().arms.candidate.total.errors).toEqual({ EXECUTION_FAILED: 1 });
  });
});

describe('output comparison', () => {
  it('agrees within tolerance and on each row\'s class; shapes must match', () => {
    const a = { y: { type: 'FP32' as const, dims: [2, 3], data: Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.2, 0.3) } };
    const near = { y: { ...a.y, data: Float32Array.of(0.1, 0.7005, 0.2, 0.5, 0.2, 0.3) } };
    const otherClass = { y: { ...a.y, data: Float32Array.of(0.1, 0.2, 0.7, 0.5, 0.2, 0.3) } };
    expect(compareOutputs(a, near, 0.001).agree).toBe(true);
    expect(compareOutputs(a, otherClass, 1).agree).toBe(false);
    expect(compareOutputs(a, { y: { ...a.y, dims: [3, 2] } }, 1).agree).toBe(false);
    expect(compareOutputs(a, otherClass, 1).maxAbs).toBeCloseTo(0.5, 5);
  });
});
