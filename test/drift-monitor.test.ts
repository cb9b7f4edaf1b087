/**
 * Drift monitoring on seeded data: a 0.5-standard-deviation mean shift of one feature is flagged on that
 * feature and no other within the first window after the reference; unshifted data raises nothing; the
 * sample rate is exact; output drift is monitored too; bad parameters are named.
 */
import { describe, expect, it } from 'vitest';
import type { InferOutputs, RuntimeEvent } from '../src/api-types.js';
import { DriftMonitor } from '../src/drift/drift-monitor.js';
import { DEFAULT_DRIFT, driftOptionsFromParameters } from '../src/drift/drift-options.js';
import { mulberry32, normalSamples } from '../src/model-generator/onnx/prng.js';
import { caught } from './helpers/caught.js';

const FEATURES = 16;
const never = new Promise<InferOutputs>(() => {});

/** Feeds `rows` single-row requests of N(0,1) features; from row `shiftFrom` on, feature `feature` has mean + `shift`. */
function feed(m: DriftMonitor, seed: number, rows: number, shiftFrom = Infinity, feature = 3, shift = 0.5) {
  const rng = mulberry32(seed);
  for (let r = 0; r < rows; r++) {
    const x = normalSamples(rng, FEATURES, 1);
    if (r >= shiftFrom) x[feature]! += shift;
    m.observe(1, { x: { data: x, dims: [1, FEATURES] } }, never);
  }
}

type DriftEvent = Extract<RuntimeEvent, { kind: 'drift' }>;

describe('drift monitor', () => {
  it.each([1, 2, 3, 4, 5])('flags a 0.5-sigma shift of feature 3, and only it, within one 500-row window (seed %i)', (seed) => {
    const events: DriftEvent[] = [];
    const m = new DriftMonitor('m', DEFAULT_DRIFT, (e) => events.push(e as DriftEvent));
    feed(m, seed, DEFAULT_DRIFT.referenceRows + DEFAULT_DRIFT.windowRows, DEFAULT_DRIFT.referenceRows);
    expect(events.map((e) => [e.tensor, e.tensorKind, e.feature])).toEqual([['x', 'input', 3]]);
    expect(events[0]!.psi).toBeGreaterThanOrEqual(DEFAULT_DRIFT.psiThreshold);
    const s = m.summaries()[0]!;
    expect(s).toMatchObject({ phase: 'monitoring', drifted: 1, sampledRows: 1500 });
    expect(s.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual([3]);
  });

  it('raises nothing on unshifted data over 10 windows', () => {
    const events: RuntimeEvent[] = [];
    for (const seed of [11, 12, 13]) {
      const m = new DriftMonitor('m', DEFAULT_DRIFT, (e) => events.push(e));
      feed(m, seed, DEFAULT_DRIFT.referenceRows + 10 * DEFAULT_DRIFT.windowRows);
      expect(m.summaries()[0]!.features).toHaveLength(FEATURES);
    }
    expect(events).toEqual([]);
  });

  it('samples exactly the configured share of requests', () => {
    const m = new DriftMonitor('m', { ...DEFAULT_DRIFT, sampleRate: 0.25 }, () => {});
    feed(m, 1, 400);
    expect(m.summaries()[0]!.sampledRows).toBe(100);
  });

  it('monitors outputs when they arrive, per version', async () => {
    const events: DriftEvent[] = [];
    const m = new DriftMonitor('m', { ...DEFAULT_DRIFT, referenceRows: 100, windowRows: 100 }, (e) => events.push(e as DriftEvent));
    const rng = mulberry32(9);
    for (let r = 0; r < 200; r++) {
      const y = normalSamples(rng, 1, 1);
      if (r >= 100) y[0]! += 3;
      const out = Promise.resolve({ y: { type: 'FP32' as const, dims: [1, 1], data: y } });
      m.observe(2, { x: { data: Float32Array.of(0), dims: [1, 1] } }, out);
      await out;
    }
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => [e.version, e.tensor, e.tensorKind])).toEqual([[2, 'y', 'output']]);
  });

  it('reads config parameters; bad ones are named (bad input)', () => {
    expect(driftOptionsFromParameters({}, 'm')).toBeUndefined();
    expect(driftOptionsFromParameters({ drift_monitor: 'true' }, 'm')).toEqual(DEFAULT_DRIFT);
    expect(driftOptionsFromParameters({ drift_window_requests: '200' }, 'm')?.windowRows).toBe(200);
    const bad = caught(() => driftOptionsFromParameters({ drift_bins: '1.5' }, 'm'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toMatch(/parameter drift_bins must be an integer in \[2, 100\], got "1.5"/);
    expect(caught(() => driftOptionsFromParameters({ drift_monitor: 'yes' }, 'm')).code).toBe('INVALID_ARGUMENT');
  });
});
