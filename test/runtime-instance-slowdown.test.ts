// Config parameter instance_slowdown: emulated slower devices for heterogeneity experiments (the hetero
// benchmark scenario). The slowed instance's measured latency profile shows it; a bad value makes the
// model UNAVAILABLE with the reason.
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
  it('makes an instance that many times slower', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: config('1,3') }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root, policy: 'round_robin' });
    // The first batch of a size also calibrates the emulated device: measure after it.
    for (let i = 0; i < 4; i++) await rt.infer('slow', { x: rows(1) });
    const before = rt.profileOf('slow')!.instances;
    // Enough executions that one scheduling hiccup on a busy machine does not move the mean much.
    for (let i = 0; i < 40; i++) await rt.infer('slow', { x: rows(1) });
    const [fast, slow] = rt.profileOf('slow')!.instances.map((inst, i) =>
      (inst.busySeconds - before[i]!.busySeconds) / (inst.executions - before[i]!.executions));
    expect(slow! / fast!).toBeGreaterThan(2.4);
    expect(slow! / fast!).toBeLessThan(4);
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
