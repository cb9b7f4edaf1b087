// Declared device noise (device_latency_noise_cv, device_latency_seed): a seeded, counter-based log-normal
// factor with mean 1, so the same model loaded twice gives the same device times and each instance has its
// own stream; and the executor-side device that draws from it and counts overruns.
import { describe, expect, it } from 'vitest';
import { deviceNoiseFactor } from '../src/executor/device-noise.js';
import { EmulatedDevice, newDeviceCounters, readDeviceCounters } from '../src/executor/emulated-device.js';

const draws = (cv: number, seed: number, instance: number, n: number) =>
  Array.from({ length: n }, (_, k) => deviceNoiseFactor(cv, seed, instance, k));

describe('device noise', () => {
  it('is exactly 1 without declared noise', () => {
    expect(draws(0, 1, 0, 100).every((f) => f === 1)).toBe(true);
  });

  it('gives the same sequence for the same seed and instance', () => {
    expect(draws(0.2, 42, 3, 500)).toEqual(draws(0.2, 42, 3, 500));
  });

  it('gives each instance, and each seed, a different stream', () => {
    const a = draws(0.2, 42, 0, 200);
    expect(draws(0.2, 42, 1, 200)).not.toEqual(a);
    expect(draws(0.2, 43, 0, 200)).not.toEqual(a);
    // Large seeds are not folded onto small ones.
    expect(draws(0.2, 2 ** 32 + 42, 0, 200)).not.toEqual(a);
  });

  it('has mean 1 and the declared coefficient of variation', () => {
    for (const cv of [0.1, 0.5]) {
      const xs = draws(cv, 7, 2, 50_000);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
      expect(mean).toBeCloseTo(1, 1);
      expect(sd / mean).toBeGreaterThan(cv * 0.9);
      expect(sd / mean).toBeLessThan(cv * 1.1);
      expect(xs.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
    }
  });
});

describe('EmulatedDevice', () => {
  const spec = (counters = newDeviceCounters()) =>
    ({ instance: 1, curve: [{ batchSize: 1, ms: 2 }, { batchSize: 4, ms: 5 }], noiseCv: 0.3, seed: 9, counters });

  it('draws device times along the curve from its instance stream, continuing after a restart', () => {
    const counters = newDeviceCounters();
    const first = new EmulatedDevice(spec(counters));
    const before = [first.nextBatchMs(1), first.nextBatchMs(4)];
    expect(before).toEqual([2 * deviceNoiseFactor(0.3, 9, 1, 0), 5 * deviceNoiseFactor(0.3, 9, 1, 1)]);
    // A restarted executor gets the same counters: its next draw is the stream's third.
    const restarted = new EmulatedDevice(spec(counters));
    expect(restarted.nextBatchMs(2)).toBe(3 * deviceNoiseFactor(0.3, 9, 1, 2));
    expect(readDeviceCounters(counters)).toEqual({ overruns: 0, batches: 3 });
  });

  it('counts an overrun when the batch already ran past its device time, and holds otherwise', () => {
    const counters = newDeviceCounters();
    const device = new EmulatedDevice(spec(counters));
    device.holdUntil(performance.now() - 1);
    expect(readDeviceCounters(counters).overruns).toBe(1);
    const deadline = performance.now() + 3;
    device.holdUntil(deadline);
    expect(performance.now()).toBeGreaterThanOrEqual(deadline);
    expect(readDeviceCounters(counters).overruns).toBe(1);
  });
});
