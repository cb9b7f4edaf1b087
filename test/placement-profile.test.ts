// Latency profile files: validation with the offending field named, the interpolated latency curve, and
// seeding a runtime's latency profiles from a file.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { latencyCurveUs, PROFILE_SCHEMA, seedRuntimeFromProfile, validateProfile, type ProfileFile } from '../src/placement/profile-file.js';
import { caught } from './helpers/caught.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';

function profile(over: Record<string, unknown> = {}): ProfileFile {
  return {
    schema: PROFILE_SCHEMA, createdAt: '2026-01-01T00:00:00Z', host: { cpus: 2, cpuModel: 'test', node: 'v20' }, repository: 'r',
    models: {
      slow: {
        version: 1, maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayUs: 0, overheadUs: 20,
        instances: [
          { batchSizes: [1, 4, 8], meanUs: [1000, 1600, 2400], cv: [0.1, 0.1, 0.1], samples: [5, 5, 5] },
          { batchSizes: [1, 4, 8], meanUs: [3000, 4800, 7200], cv: [0.1, 0.1, 0.1], samples: [5, 5, 5] },
        ],
        ...over,
      },
    },
  } as ProfileFile;
}

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
afterEach(async () => { await rt?.close(); rt = undefined; cleanup?.(); });

describe('latency profile files', () => {
  it('interpolates between measured sizes and extrapolates past the last', () => {
    const c = latencyCurveUs(profile().models['slow']!.instances[0]!, 10);
    expect(c.slice(0, 8)).toEqual([1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400]);
    expect(c[9]).toBe(2800);
  });

  it('seeds every instance of a loaded model', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 8, instances: 2 }) }]);
    cleanup = repo.cleanup;
    rt = await Runtime.open({ modelRepository: repo.root, warmup: false });
    expect(seedRuntimeFromProfile(rt, profile())).toEqual(['slow']);
    const seeded = rt.profileOf('slow')!.instances.map((i) => i.latencyProfile.find((p) => p.batchSize === 4)!.seconds);
    expect(seeded[0]).toBeCloseTo(1600e-6, 9);
    expect(seeded[1]).toBeCloseTo(4800e-6, 9);
  });

  const bad: [string, unknown, RegExp][] = [
    ['another schema', { ...profile(), schema: 'other/1' }, /schema must be 'serval-profile\/1'/],
    ['no models', { ...profile(), models: {} }, /no models/],
    ['a negative max batch size', profile({ maxBatchSize: -1 }), /models.slow.maxBatchSize/],
    ['no instances', profile({ instances: [] }), /models.slow.instances must be a non-empty array/],
    ['a missing cv entry', profile({ instances: [{ batchSizes: [1, 2], meanUs: [1, 2], cv: [0.1], samples: [1, 1] }] }), /instances\[0\].cv must have one entry per batch size/],
    ['descending batch sizes', profile({ instances: [{ batchSizes: [2, 1], meanUs: [1, 2], cv: [0, 0], samples: [1, 1] }] }), /ascending/],
    ['a zero latency', profile({ instances: [{ batchSizes: [1], meanUs: [0], cv: [0], samples: [1] }] }), /meanUs\[0\] must be positive/],
  ];
  for (const [what, json, message] of bad) {
    it(`rejects ${what} with INVALID_ARGUMENT`, () => {
      const err = caught(() => validateProfile(json, 'profile.json'));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    });
  }
});
