// The simulator through the addon: deterministic for a seed, the expected policy behaviour (RR overloads a
// slow instance, WRR shares by speed, EFT joins forming batches), the learned policy's features as recorded
// for training, arrival processes, and bad configs rejected with a code.
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeSimConfig } from '../src/binding.js';
import { caught } from './helpers/caught.js';

const sim = loadAddon().sim;

/** l(b) = base + perSample x b microseconds, b = 1..maxBatch, slowed down by `speed`. */
const curve = (maxBatch: number, base: number, perSample: number, speed = 1) =>
  Array.from({ length: Math.max(1, maxBatch) }, (_, i) => (base + perSample * (i + 1)) * speed);

function config(policy: string, o: { speeds?: number[]; maxBatch?: number; delayUs?: number; rate?: number; process?: string; sloUs?: number; seed?: number } = {}): NativeSimConfig {
  const maxBatch = o.maxBatch ?? 1;
  return {
    models: [{ maxBatchSize: maxBatch, maxQueueDelayUs: o.delayUs ?? 0, sloUs: o.sloUs ?? 20_000 }],
    instances: (o.speeds ?? [1, 4]).map((s) => ({ model: 0, latencyUs: curve(maxBatch, 1000, 0, s) })),
    arrivals: { process: o.process ?? 'poisson', rate: o.rate ?? 750, durationS: 20, seed: o.seed ?? 3 },
    policy,
    options: { seed: 1 },
  };
}

describe('simulator', () => {
  it('gives the same result for the same seed, and another for another seed', () => {
    const a = sim.simulate(config('earliest_finish_time', { process: 'gamma:4' }));
    const b = sim.simulate(config('earliest_finish_time', { process: 'gamma:4' }));
    const c = sim.simulate(config('earliest_finish_time', { process: 'gamma:4', seed: 4 }));
    expect(b).toEqual(a);
    expect(c.p99Ms).not.toBe(a.p99Ms);
  });

  it('round robin overloads a 4x slower instance; EFT and WRR do not', () => {
    // Capacity 1000 + 250 req/s; 750 req/s sends 375 req/s to the slow instance under round robin.
    const rr = sim.simulate(config('round_robin'));
    const eft = sim.simulate(config('earliest_finish_time'));
    const wrr = sim.simulate(config('weighted_round_robin'));
    expect(rr.attainment).toBeLessThan(0.6);
    expect(eft.attainment).toBeGreaterThan(0.97);
    expect(wrr.attainment).toBeGreaterThan(0.9);
    expect(wrr.placements[0]! / wrr.placements[1]!).toBeCloseTo(4, 1);
  });

  it('EFT consolidates a light load into forming batches; JSQ spreads it', () => {
    const o = { speeds: [1, 1, 1, 1], maxBatch: 8, delayUs: 2000, rate: 200, sloUs: 50_000 };
    const eft = sim.simulate(config('earliest_finish_time', o));
    const jsq = sim.simulate(config('least_outstanding', o));
    expect(eft.meanBatch).toBeGreaterThan(jsq.meanBatch * 1.3);
  });

  it('records the learned policy\'s features and the teacher\'s choices', () => {
    const r = sim.simulate({ ...config('earliest_finish_time', { speeds: [1, 2, 4], rate: 1200 }), record: { teacher: 'self' } });
    const d = r.dataset!;
    expect(d.labels.length).toBe(r.decisions);
    expect(d.offsets.length).toBe(d.labels.length + 1);
    expect(d.features.length).toBe(d.offsets[d.offsets.length - 1]! * sim.policyInputs);
    for (let row = 0; row < 30; row++) {
      const f = d.features.subarray(row * 16, row * 16 + 16);
      expect(f[2]).toBeCloseTo(1 - f[0]! - f[1]!, 5);     // slack = 1 - (start + service) / SLO
      expect(f[11]).toBeCloseTo(3 / 16, 6);                // candidates / 16
      expect([1, 0.5, 0.25]).toContainEqual(Number(f[10]!.toFixed(6)));  // relative speed
    }
    // EFT's choice is always a candidate with the smallest predicted finish (feature 3 = 0).
    for (let k = 0; k < d.labels.length; k++) expect(d.features[(d.offsets[k]! + d.labels[k]!) * 16 + 3]).toBeCloseTo(0, 6);
  });

  it('generates the requested arrival process and model mix', () => {
    for (const process of ['poisson', 'gamma:4', 'mmpp:peak=6,on=0.5,off=3', 'constant']) {
      const a = sim.generateArrivals({ process, rate: 500, durationS: 40, modelWeights: [1, 3], seed: 2 });
      expect(a.timesS.length / 40).toBeGreaterThan(420);
      expect(a.timesS.length / 40).toBeLessThan(580);
      const share = a.models.reduce((s, m) => s + m, 0) / a.models.length;
      expect(share).toBeGreaterThan(0.72);
      expect(share).toBeLessThan(0.78);
    }
    const trace = sim.generateArrivals({ traceS: [10, 10.5, 11, 13], rateScale: 2 });
    expect(Array.from(trace.timesS)).toEqual([0, 0.25, 0.5, 1.5]);
  });

  describe('bad configs', () => {
    const cases: [string, () => unknown, string, RegExp][] = [
      ['an unknown policy', () => sim.simulate(config('fastest')), 'INVALID_ARGUMENT', /unknown placement policy 'fastest'/],
      ['a curve of the wrong length', () => sim.simulate({ ...config('round_robin'), instances: [{ model: 0, latencyUs: [1, 2] }] }), 'INVALID_ARGUMENT', /latency for each batch size 1..1/],
      ['an instance of an unknown model', () => sim.simulate({ ...config('round_robin'), instances: [{ model: 3, latencyUs: [1] }] }), 'INVALID_ARGUMENT', /unknown model/],
      ['an unknown arrival process', () => sim.generateArrivals({ process: 'uniform', rate: 1 }), 'INVALID_ARGUMENT', /unknown arrival process 'uniform'/],
      ['an impossible MMPP', () => sim.generateArrivals({ process: 'mmpp:peak=20,on=1,off=1', rate: 1 }), 'INVALID_ARGUMENT', /peak\*on <= on\+off/],
      ['descending trace times', () => sim.generateArrivals({ traceS: [2, 1] }), 'INVALID_ARGUMENT', /ascending/],
      ['bad weights', () => sim.simulate(config('round_robin') && { ...config('round_robin'), policy: { weights: Buffer.from('nope') } }), 'INVALID_ARGUMENT', /bad magic/],
    ];
    for (const [what, fn, code, message] of cases) {
      it(`rejects ${what} with ${code}`, () => {
        const err = caught(fn);
        expect(err.code).toBe(code);
        expect(err.message).toMatch(message);
      });
    }
  });
});
