/** The autoscaling signal's arithmetic: SLO capacity from a latency profile, arrival rate from counters. */
import { describe, expect, it } from 'vitest';
import { ArrivalRate, instanceSloCapacity } from '../src/cluster/slo-capacity.js';

const profile = [
  { batchSize: 1, seconds: 0.002 },
  { batchSize: 4, seconds: 0.004 },
  { batchSize: 16, seconds: 0.012 },
];

describe('instanceSloCapacity', () => {
  it('takes the best rate among batch sizes whose two batch times fit the objective', () => {
    expect(instanceSloCapacity(profile, 0.010, 16)).toBeCloseTo(1000);  // b=4: 8 ms <= 10 ms; b=16 needs 24 ms
    expect(instanceSloCapacity(profile, 0.030, 16)).toBeCloseTo(16 / 0.012);
  });
  it('without an objective, the best rate at any batch size within max_batch_size', () => {
    expect(instanceSloCapacity(profile, 0, 16)).toBeCloseTo(16 / 0.012);
    expect(instanceSloCapacity(profile, 0, 4)).toBeCloseTo(1000);
    expect(instanceSloCapacity(profile, 0, 0)).toBeCloseTo(500);  // no batching: b = 1 only
  });
  it('when nothing fits the objective, the smallest batch rate; with no profile, zero', () => {
    expect(instanceSloCapacity(profile, 0.001, 16)).toBeCloseTo(500);
    expect(instanceSloCapacity([], 0.01, 16)).toBe(0);
    expect(instanceSloCapacity([{ batchSize: 2, seconds: 0 }], 0.01, 16)).toBe(0);
  });
});

describe('ArrivalRate', () => {
  it('rates over the interval between samples, the first over the uptime', () => {
    const r = new ArrivalRate();
    expect(r.sample('m', 100, 10, 20)).toBe(5);
    expect(r.sample('m', 160, 13, 23)).toBe(20);
    // A counter that went backwards (a reloaded version) falls back to the uptime.
    expect(r.sample('m', 10, 14, 2)).toBe(5);
    r.retain(new Set());
    expect(r.sample('m', 30, 15, 3)).toBe(10);
  });
});
