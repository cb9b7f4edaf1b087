// Emulated devices in a running model: the declared (or once-calibrated) curve is stated in rt.stats(), the
// HTTP stats JSON and metrics, and every batch occupies its instance for at least the device time.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { tritonModelStats } from '../src/server/stats-json.js';
import { makeRepo, rows } from './helpers/temp-repo.js';

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
afterEach(async () => { await rt?.close(); rt = undefined; cleanup?.(); });

function config(parameters: Record<string, string>, instances = 2): string {
  return [
    'name: "{name}"', 'max_batch_size: 8', 'dynamic_batching { }',
    `instance_group [ { count: ${instances} kind: KIND_CPU } ]`,
    ...Object.entries(parameters).map(([k, v]) => `parameters { key: "${k}" value { string_value: "${v}" } }`),
  ].join('\n');
}

const fraudRow = () => ({ data: new Float32Array(128), dims: [1, 128] });

describe('emulated devices', () => {
  it('holds every batch for at least its declared device time and states the curve', async () => {
    const repo = makeRepo([{ name: 'dev', from: 'fraud_mlp', config: config({ device_latency_model: '1:3,8:6', instance_slowdown: '1,2' }) }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root, policy: 'round_robin' });
    // One request at a time: every batch has one sample, so instance i holds each for slowdown_i x 3 ms.
    for (let i = 0; i < 10; i++) await rt.infer('dev', { features: fraudRow() });
    const s = rt.stats().models.find((m) => m.name === 'dev')!;
    const [fast, slow] = s.instances;
    expect(fast!.emulatedDevice).toEqual({
      source: 'declared', slowdown: 1, curve: [{ batchSize: 1, ms: 3 }, { batchSize: 8, ms: 6 }], noiseCv: 0, seed: 1,
      overruns: fast!.emulatedDevice!.overruns, batches: 5,
    });
    expect(slow!.emulatedDevice).toMatchObject({ source: 'declared', slowdown: 2, curve: [{ batchSize: 1, ms: 6 }, { batchSize: 8, ms: 12 }], batches: 5 });
    // Lower bounds only: the hold is a minimum, a busy host may add to it.
    expect(fast!.busySeconds).toBeGreaterThanOrEqual(5 * 0.003);
    expect(slow!.busySeconds).toBeGreaterThanOrEqual(5 * 0.006);
    const underThreeMs = s.computeSeconds.counts.filter((_, i) => s.computeSeconds.bounds[i]! <= 0.003).reduce((a, b) => a + b, 0);
    expect(s.computeSeconds.count).toBe(10);
    expect(underThreeMs).toBe(0);
    expect(s.computeSeconds.sum).toBeGreaterThanOrEqual(5 * 0.003 + 5 * 0.006);

    const json = tritonModelStats(s, 0);
    expect(json.emulated_devices).toEqual([
      { instance: 0, source: 'declared', slowdown: 1, curve: [{ batch_size: 1, ms: 3 }, { batch_size: 8, ms: 6 }], noise_cv: 0, seed: 1, overruns: fast!.emulatedDevice!.overruns, batches: 5 },
      { instance: 1, source: 'declared', slowdown: 2, curve: [{ batch_size: 1, ms: 6 }, { batch_size: 8, ms: 12 }], noise_cv: 0, seed: 1, overruns: slow!.emulatedDevice!.overruns, batches: 5 },
    ]);
  });

  it('calibrates one curve at load and gives identical instances identical curves', async () => {
    const repo = makeRepo([{ name: 'cal', from: 'slow_identity', config: config({ instance_slowdown: '1,1,3' }, 3) }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root });
    const devices = rt.stats().models.find((m) => m.name === 'cal')!.instances.map((i) => i.emulatedDevice!);
    expect(devices.map((d) => d.source)).toEqual(['calibrated', 'calibrated', 'calibrated']);
    expect(devices[0]!.curve.map((p) => p.batchSize)).toEqual([1, 2, 4, 8]);
    expect(devices[1]!.curve).toEqual(devices[0]!.curve);
    expect(devices[2]!.curve.map((p) => p.ms)).toEqual(devices[0]!.curve.map((p) => 3 * p.ms));
    expect(devices[0]!.curve.every((p) => p.ms > 0)).toBe(true);
  });

  it('leaves models without device parameters unemulated', async () => {
    const repo = makeRepo([{ name: 'plain', from: 'slow_identity', config: config({}) }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root });
    await rt.infer('plain', { x: rows(1) });
    const s = rt.stats().models.find((m) => m.name === 'plain')!;
    expect(s.instances.every((i) => i.emulatedDevice === undefined)).toBe(true);
    expect(tritonModelStats(s, 0).emulated_devices).toBeUndefined();
  });

  it('makes a model with a bad device_latency_model UNAVAILABLE, naming the token', async () => {
    const repo = makeRepo([{ name: 'bad', from: 'slow_identity', config: config({ device_latency_model: '1:2,4:x' }) }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root });
    const m = rt.models().find((x) => x.name === 'bad')!;
    expect(m.state).toBe('UNAVAILABLE');
    expect(m.reason).toContain("model 'bad': parameter device_latency_model: '4:x': latency must be");
  });
});
