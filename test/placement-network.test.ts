// The learned policy's network: the AVX2 and scalar forward passes agree bit for bit, the weights compiled
// into the addon are exactly the committed policy.bin they were generated from (scored directly and inside
// the simulator), and weights files are validated with a stable error code.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, PACKAGE_ROOT } from '../src/binding.js';
import { encodePolicy, readPolicyFile } from '../src/placement/policy-file.js';
import { weightsInc } from '../src/placement/weights-codegen.js';
import { createHash } from 'node:crypto';
import { rejected } from './helpers/caught.js';

const sim = loadAddon().sim;
const BUNDLED_BIN = join(PACKAGE_ROOT, 'native', 'core', 'learned_policy.bin');
const BUNDLED_INC = join(PACKAGE_ROOT, 'native', 'core', 'learned_policy_weights.inc');
const dir = mkdtempSync(join(tmpdir(), 'serval-net-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random features: n candidates x 16. */
function features(n: number, seed: number, scale = 2): Float32Array {
  return sim.gaussianNoise(seed, n * sim.policyInputs).map((x) => x * scale);
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

function randomPolicy(seed: number): Buffer {
  const n = sim.policyInputs;
  return encodePolicy({
    featureMean: sim.gaussianNoise(seed, n), featureInvStd: new Float32Array(n).fill(1.5),
    envelopeLo: new Float32Array(n).fill(-1e9), envelopeHi: new Float32Array(n).fill(1e9), maxErrorEwma: 1e9,
    params: sim.gaussianNoise(seed + 1, sim.policyParams).map((x) => x * 0.4),
  });
}

describe('policy network', () => {
  it('the AVX2 and scalar forward passes give bit-identical scores', () => {
    if (!sim.simdAvailable) return;  // nothing to compare on a CPU without AVX2/FMA
    for (let seed = 1; seed <= 10; seed++) {
      const policy = seed % 2 ? randomPolicy(seed) : 'learned';
      for (const n of [1, 2, 3, 8, 16]) {
        const x = features(n, seed * 31 + n);
        expect(bits(sim.scoreCandidates(policy, x, n, 'avx2'))).toEqual(bits(sim.scoreCandidates(policy, x, n, 'scalar')));
      }
    }
  });

  it('the compiled weights score exactly like the policy.bin they were generated from', () => {
    const file = readFileSync(BUNDLED_BIN);
    for (let seed = 1; seed <= 10; seed++) {
      const x = features(16, 1000 + seed, seed);
      expect(bits(sim.scoreCandidates('learned', x, 16))).toEqual(bits(sim.scoreCandidates(file, x, 16)));
    }
  });

  it('the committed .inc is what the generator makes of the committed policy.bin', () => {
    const bytes = readFileSync(BUNDLED_BIN);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(readFileSync(BUNDLED_INC, 'utf8')).toBe(weightsInc(sim.decodePolicy(bytes), 'learned_policy.bin', sha));
  });

  it('the simulator makes the same decisions with the compiled weights and with the file', () => {
    const lat = Array.from({ length: 16 }, (_, i) => 500 + 40 * (i + 1));
    const config = (policy: string | { weights: Buffer }) => ({
      models: [{ maxBatchSize: 16, preferredBatchSizes: [4, 8], maxQueueDelayUs: 200, sloUs: 8000 }],
      instances: [1, 1, 2, 4].map((s) => ({ model: 0, latencyUs: lat.map((x) => x * s), noiseCv: 0.05 })),
      arrivals: { process: 'gamma:3', rate: 4000, durationS: 3, seed: 9 },
      policy,
      options: { seed: 4, keepLatencies: true },
    });
    const compiled = sim.simulate(config('learned'));
    const fromFile = sim.simulate(config({ weights: readFileSync(BUNDLED_BIN) }));
    expect(Array.from(fromFile.placements)).toEqual(Array.from(compiled.placements));
    expect(Array.from(fromFile.latenciesMs!)).toEqual(Array.from(compiled.latenciesMs!));
  });

  it('weights survive encode and decode unchanged', () => {
    const bytes = randomPolicy(5);
    expect(encodePolicy(sim.decodePolicy(bytes)).equals(bytes)).toBe(true);
  });

  describe('bad weights files', () => {
    const good = randomPolicy(3);
    const cases: [string, Buffer | null, RegExp][] = [
      ['a missing file', null, /cannot read policy weights file/],
      ['an empty file', Buffer.alloc(0), /bad magic/],
      ['another format', Buffer.from('{"not": "weights"}'), /bad magic/],
      ['a newer version', Buffer.concat([good.subarray(0, 8), Buffer.from([2, 0, 0, 0]), good.subarray(12)]), /unsupported policy weights version 2/],
      ['another network shape', Buffer.concat([good.subarray(0, 12), Buffer.from([8, 0, 0, 0]), good.subarray(16)]), /policy network is 8-32-32-1/],
      ['a truncated file', good.subarray(0, good.length - 4), /truncated/],
      ['a flipped bit', Buffer.from(good.map((b, i) => (i === 300 ? b ^ 4 : b))), /checksum mismatch/],
    ];
    for (const [what, bytes, message] of cases) {
      it(`rejects ${what} with INVALID_ARGUMENT`, async () => {
        const file = join(dir, `${what.replace(/\W/g, '_')}.bin`);
        if (bytes) writeFileSync(file, bytes);
        const err = await rejected(readPolicyFile(bytes ? file : join(dir, 'nope.bin')));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toMatch(message);
      });
    }
  });
});
