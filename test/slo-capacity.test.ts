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

describe('the autoscaling gauges', () => {
  const profile = (ms: number) => [1, 2, 4].map((b) => ({ batchSize: b, seconds: (ms * (1 + b)) / 2000 }));
  const model = (success: number, uptime: number) => ({
    name: 'm', version: 1, state: 'READY', success, failure: { SHED: 10 }, uptimeSeconds: uptime, instances: [],
  });
  it('report arrivals over SLO capacity, and nothing for instances that only have the prior', async () => {
    const { Registry } = await import('prom-client');
    const { registerAutoscalingMetrics } = await import('../src/cluster/autoscaling-metrics.js');
    const registry = new Registry();
    let executions = 0;
    let snap = { stats: { policy: 'p', admission: 'none', models: [model(90, 50)] }, at: 100 };
    const runtime = {
      config: () => ({ maxBatchSize: 4, parameters: { slo_ms: '10' } }),
      profileOf: () => ({ instances: [{ executions, latencyProfile: profile(2) }, { executions, latencyProfile: profile(4) }] }),
    };
    registerAutoscalingMetrics(registry, runtime as never, () => snap as never);
    expect(await registry.getSingleMetricAsString('serval_slo_capacity_utilization')).not.toMatch(/\bm"/);
    executions = 3;
    snap = { ...snap, stats: { ...snap.stats, models: [model(190, 40)] }, at: 110 };
    // Instance 0: l(b) = (1+b) ms, b=4 needs 2 x 5 ms <= 10 ms: 800/s. Instance 1: (1+b) x 2 ms, b=2: 6 ms x 2 > 10, b=1: 4 x 2 <= 10: 250/s.
    const values = (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('serval_slo_capacity'));
    const get = (name: string) => values.find((m) => m.name === name)!.values[0]!.value;
    expect(get('serval_slo_capacity_requests_per_second')).toBeCloseTo(1050);
    // 100 more requests (190 ok + 10 shed, was 90 + 10) over the 10 s since the previous scrape: 10/s.
    expect(get('serval_slo_capacity_utilization')).toBeCloseTo(10 / 1050);
  });
});
