// Placement through the real runtime: each policy's distribution over a model's instances.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, type PolicyName } from '../src/index.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.close();
  cleanup?.();
});

async function placements(policy: PolicyName, requests: number, waves: number): Promise<number[]> {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 4, instances: 3 }) }]);
  cleanup = repo.cleanup;
  rt = await Runtime.open({ modelRepository: repo.root, policy });
  for (let w = 0; w < waves; w++) {
    await Promise.all(Array.from({ length: requests / waves }, () => rt!.infer('slow', { x: rows(1) })));
  }
  return rt.stats().models[0]!.instances.map((i) => i.placements);
}

describe('placement policies', () => {
  it('round_robin spreads requests exactly evenly', async () => {
    expect(await placements('round_robin', 90, 3)).toEqual([30, 30, 30]);
  });

  it('least_outstanding uses every instance and keeps them within one batch of each other', async () => {
    const p = await placements('least_outstanding', 90, 1);
    expect(p.reduce((a, b) => a + b)).toBe(90);
    expect(Math.max(...p) - Math.min(...p)).toBeLessThanOrEqual(1);
  });

  it('power_of_two uses every instance', async () => {
    const p = await placements('power_of_two', 90, 1);
    expect(p.reduce((a, b) => a + b)).toBe(90);
    expect(Math.min(...p)).toBeGreaterThan(10);
  });

  it('shortest_expected_delay uses every instance once loaded', async () => {
    const p = await placements('shortest_expected_delay', 90, 1);
    expect(p.reduce((a, b) => a + b)).toBe(90);
    expect(Math.min(...p)).toBeGreaterThan(0);
  });
});
