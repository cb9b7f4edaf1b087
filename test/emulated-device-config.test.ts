// Emulated devices: the config parameters device_latency_model, device_latency_noise_cv, device_latency_seed
// and instance_slowdown (validation by code, naming the bad token), the curve's interpolation, and the
// batch sizes a calibrated curve is measured at.
import { describe, expect, it } from 'vitest';
import { curveMs, parseLatencyCurves, scaleCurve } from '../src/executor/latency-curve.js';
import { calibrationBatchSizes, EmulatedDevices } from '../src/model/emulated-devices.js';
import { caught } from './helpers/caught.js';

describe('device_latency_model parsing', () => {
  it('gives every instance the one curve, or each instance its own', () => {
    const one = parseLatencyCurves('1:2.0, 4:3, 8:5.5', 3, 'm');
    expect(one).toHaveLength(3);
    for (const c of one) expect(c).toEqual([{ batchSize: 1, ms: 2 }, { batchSize: 4, ms: 3 }, { batchSize: 8, ms: 5.5 }]);
    const each = parseLatencyCurves('1:1;1:2,2:3', 2, 'm');
    expect(each).toEqual([[{ batchSize: 1, ms: 1 }], [{ batchSize: 1, ms: 2 }, { batchSize: 2, ms: 3 }]]);
  });

  const bad: [string, string][] = [
    ['', 'curve 1 is empty'],
    ['1:2,', "'' is not a batch:ms point"],
    ['1-2', "'1-2' is not a batch:ms point"],
    ['1:2:3', "'1:2:3' is not a batch:ms point"],
    ['0:2', "'0:2': batch size must be a positive integer"],
    ['1.5:2', "'1.5:2': batch size must be a positive integer"],
    ['x:2', "'x:2': batch size must be a positive integer"],
    ['1:0', "'1:0': latency must be a finite number of milliseconds > 0"],
    ['1:-1', "'1:-1': latency must be"],
    ['1:abc', "'1:abc': latency must be"],
    ['1:Infinity', "'1:Infinity': latency must be"],
    ['1:', "'1:': latency must be"],
    ['4:2,2:3', "'2:3': batch sizes must be strictly ascending"],
    ['1:2,1:3', "'1:3': batch sizes must be strictly ascending"],
    ['1:1;1:2;1:3', '3 curves given; give 1 (for every instance) or 2'],
    ['1:1;', 'curve 2 is empty'],
  ];
  for (const [text, why] of bad) {
    it(`rejects '${text}' with INVALID_ARGUMENT naming the model and the token`, () => {
      const err = caught(() => parseLatencyCurves(text, 2, 'fraud'));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain("model 'fraud': parameter device_latency_model: ");
      expect(err.message).toContain(why);
    });
  }
});

describe('latency curve evaluation', () => {
  const curve = parseLatencyCurves('2:2,4:3,8:5', 1, 'm')[0]!;
  it('holds the first value below the first point', () => {
    expect(curveMs(curve, 1)).toBe(2);
    expect(curveMs(curve, 2)).toBe(2);
  });
  it('is piecewise-linear between points and exact at them', () => {
    expect(curveMs(curve, 3)).toBe(2.5);
    expect(curveMs(curve, 4)).toBe(3);
    expect(curveMs(curve, 6)).toBe(4);
    expect(curveMs(curve, 8)).toBe(5);
  });
  it('extrapolates the last segment above the last point', () => {
    expect(curveMs(curve, 12)).toBe(7);
  });
  it('never goes below the last value when the last segment falls', () => {
    const falling = parseLatencyCurves('1:4,2:3', 1, 'm')[0]!;
    expect(curveMs(falling, 2)).toBe(3);
    expect(curveMs(falling, 10)).toBe(3);
  });
  it('is constant for a one-point curve', () => {
    const flat = parseLatencyCurves('4:2.5', 1, 'm')[0]!;
    for (const b of [1, 4, 64]) expect(curveMs(flat, b)).toBe(2.5);
  });
  it('scales by an instance slowdown', () => {
    expect(scaleCurve(curve, 2)).toEqual([{ batchSize: 2, ms: 4 }, { batchSize: 4, ms: 6 }, { batchSize: 8, ms: 10 }]);
  });
});

describe('emulated device parameters', () => {
  const from = (p: Record<string, string>, instances = 2) => EmulatedDevices.fromParameters(p, instances, 'fraud');
  const resolved = async (d: EmulatedDevices | undefined) => {
    await d!.resolve({ maxBatchSize: 8 } as never, () => Promise.reject(new Error('declared curves need no calibration')));
    return d!;
  };

  it('emulates nothing without device_latency_model or instance_slowdown', () => {
    expect(from({})).toBeUndefined();
  });

  it('states the declared curve per instance, times its slowdown, with the noise settings', async () => {
    const d = await resolved(from({ device_latency_model: '1:2,4:4', instance_slowdown: '1,3', device_latency_noise_cv: '0.1', device_latency_seed: '7' }));
    expect(d.status(0)).toEqual({ source: 'declared', slowdown: 1, curve: [{ batchSize: 1, ms: 2 }, { batchSize: 4, ms: 4 }], noiseCv: 0.1, seed: 7, overruns: 0, batches: 0 });
    expect(d.status(1)).toMatchObject({ source: 'declared', slowdown: 3, curve: [{ batchSize: 1, ms: 6 }, { batchSize: 4, ms: 12 }] });
    expect(d.spec(1)).toMatchObject({ instance: 1, noiseCv: 0.1, seed: 7, curve: [{ batchSize: 1, ms: 6 }, { batchSize: 4, ms: 12 }] });
  });

  it('calibrates one curve once, at 1, 2, 4 ... max_batch_size, shared by every instance', async () => {
    const d = from({ instance_slowdown: '1,2' })!;
    const calls: number[][] = [];
    await d.resolve({ maxBatchSize: 6, input: [{ name: 'x', dataType: 'FP32', dims: [-1, 4] }] } as never, async (msg) => {
      calls.push(msg.steps.map((s) => s.tensors[0]!.dims[0]!));
      return [1, 1.5, 2.5, 3];
    });
    expect(calls).toEqual([[1, 2, 4, 6]]);
    expect(d.status(0)).toMatchObject({ source: 'calibrated', slowdown: 1, noiseCv: 0, seed: 1 });
    expect(d.status(0).curve).toEqual([{ batchSize: 1, ms: 1 }, { batchSize: 2, ms: 1.5 }, { batchSize: 4, ms: 2.5 }, { batchSize: 6, ms: 3 }]);
    expect(d.status(1).curve.map((p) => p.ms)).toEqual([2, 3, 5, 6]);
  });

  it('measures calibration curves at powers of two up to max_batch_size', () => {
    expect(calibrationBatchSizes(0)).toEqual([1]);
    expect(calibrationBatchSizes(1)).toEqual([1]);
    expect(calibrationBatchSizes(8)).toEqual([1, 2, 4, 8]);
    expect(calibrationBatchSizes(12)).toEqual([1, 2, 4, 8, 12]);
  });

  const bad: [Record<string, string>, string][] = [
    [{ device_latency_model: '1:2', device_latency_noise_cv: '-0.1' }, "device_latency_noise_cv must be a finite number >= 0, got '-0.1'"],
    [{ device_latency_model: '1:2', device_latency_noise_cv: 'x' }, 'device_latency_noise_cv must be a finite number >= 0'],
    [{ device_latency_model: '1:2', device_latency_noise_cv: '' }, 'device_latency_noise_cv must be a finite number >= 0'],
    [{ device_latency_model: '1:2', device_latency_seed: '1.5' }, "device_latency_seed must be a non-negative integer, got '1.5'"],
    [{ device_latency_model: '1:2', device_latency_seed: '-3' }, 'device_latency_seed must be a non-negative integer'],
    [{ device_latency_noise_cv: '0.1' }, 'device_latency_noise_cv needs device_latency_model or instance_slowdown'],
    [{ device_latency_seed: '3' }, 'device_latency_seed needs device_latency_model or instance_slowdown'],
    [{ instance_slowdown: '1' }, "instance_slowdown must list 2 numbers >= 1 (one per instance), got '1'"],
    [{ instance_slowdown: '1,0.5' }, 'instance_slowdown must list 2 numbers >= 1'],
    [{ instance_slowdown: '1,' }, 'instance_slowdown must list 2 numbers >= 1'],
    [{ device_latency_model: '1:2;2:x' }, "'2:x': latency must be"],
  ];
  for (const [params, why] of bad) {
    it(`rejects ${JSON.stringify(params)} with INVALID_ARGUMENT`, () => {
      const err = caught(() => from(params));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain("model 'fraud': parameter ");
      expect(err.message).toContain(why);
    });
  }
});
