// Config parameter instance_slowdown: emulated slower devices for heterogeneity experiments (the hetero
// benchmark scenario). Without device_latency_model the curve is calibrated once at load and scaled per
// instance, as the model's stats state; a bad value makes the model UNAVAILABLE with the reason.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { makeRepo, rows } from './helpers/temp-repo.js';

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
afterEach(async () => { await rt?.close(); rt = undefined; cleanup?.(); });

function config(slowdown: string): string {
  return [
    'name: "{name}"', 'max_batch_size: 8', 'dynamic_batching { }',
    'instance_group [ { count: 2 kind: KIND_CPU } ]',
    `parameters { key: "instance_slowdown" value { string_value: "${slowdown}" } }`,
  ].join('\n');
}

describe('instance_slowdown', () => {
  it('makes an instance hold each batch that many times the curve calibrated once at load', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: config('1,3') }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root, policy: 'round_robin' });
    for (let i = 0; i < 10; i++) await rt.infer('slow', { x: rows(1) });
    const [fast, slow] = rt.stats().models.find((m) => m.name === 'slow')!.instances;
    expect(fast!.emulatedDevice).toMatchObject({ source: 'calibrated', slowdown: 1 });
    expect(slow!.emulatedDevice).toMatchObject({ source: 'calibrated', slowdown: 3 });
    expect(slow!.emulatedDevice!.curve).toEqual(fast!.emulatedDevice!.curve.map((p) => ({ batchSize: p.batchSize, ms: 3 * p.ms })));
    // Every batch had one sample: each held its instance for at least the curve's l(1) (a lower bound).
    for (const inst of [fast!, slow!]) {
      expect(inst.executions).toBe(5);
      expect(inst.busySeconds).toBeGreaterThanOrEqual((5 * inst.emulatedDevice!.curve[0]!.ms) / 1000);
    }
  });

  for (const bad of ['1', '1,0.5', '1,x']) {
    it(`rejects '${bad}' (the model is UNAVAILABLE with the reason)`, async () => {
      const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: config(bad) }]);
      cleanup = repo.cleanup;
      rt = await Runtime.open({ modelRepository: repo.root });
      const m = rt.models().find((x) => x.name === 'slow')!;
      expect(m.state).toBe('UNAVAILABLE');
      expect(m.reason).toMatch(/instance_slowdown must list 2 numbers >= 1/);
    });
  }
});
