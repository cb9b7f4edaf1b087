// The placement policies added for learned placement, through the real runtime: EFT and WRR are
// selectable and place requests; `learned` and `learned:FILE` load (a bad file is INVALID_ARGUMENT with
// the reason); the learned policy's guard-rail fallbacks reach rt.stats() and rt.profileOf().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../src/binding.js';
import { Runtime, type PolicyName } from '../src/index.js';
import { encodePolicy } from '../src/placement/policy-file.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

const cleanups: (() => void)[] = [];
let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'serval-policy-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(policy: PolicyName, instances = 3): Promise<Runtime> {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 4, instances }) }]);
  cleanups.push(repo.cleanup);
  rt = await Runtime.open({ modelRepository: repo.root, policy });
  return rt;
}

async function send(r: Runtime, n: number): Promise<number[]> {
  await Promise.all(Array.from({ length: n }, () => r.infer('slow', { x: rows(1) })));
  return r.stats().models[0]!.instances.map((i) => i.placements);
}

/** A policy file: random weights with a wide envelope, or the given envelope. */
function policyFile(envelope?: { lo: number[]; hi: number[] }): string {
  const sim = loadAddon().sim;
  const n = sim.policyInputs;
  const params = sim.gaussianNoise(7, sim.policyParams).map((x) => x * 0.3);
  const bytes = encodePolicy({
    featureMean: new Float32Array(n), featureInvStd: new Float32Array(n).fill(1),
    envelopeLo: new Float32Array(envelope?.lo ?? new Array(n).fill(-1e9)),
    envelopeHi: new Float32Array(envelope?.hi ?? new Array(n).fill(1e9)),
    maxErrorEwma: 1e9, params,
  });
  const file = join(tempDir(), 'policy.bin');
  writeFileSync(file, bytes);
  return file;
}

describe('placement policies for learned placement', () => {
  it('the addon lists earliest_finish_time, weighted_round_robin and learned', () => {
    const names = loadAddon().buildInfo().policies;
    for (const p of ['earliest_finish_time', 'weighted_round_robin', 'learned']) expect(names).toContain(p);
  });

  for (const policy of ['earliest_finish_time', 'weighted_round_robin', 'learned'] as const) {
    it(`${policy} serves every request`, async () => {
      const r = await open(policy);
      const placed = await send(r, 60);
      expect(placed.reduce((a, b) => a + b)).toBe(60);
      // Heuristics have no fallback; the learned policy may hand decisions outside its envelope to EFT.
      const fallbacks = r.stats().models[0]!.policyFallbacks;
      if (policy === 'learned') expect(fallbacks).toBeLessThanOrEqual(60);
      else expect(fallbacks).toBe(0);
    });
  }

  it('weighted_round_robin splits equal instances evenly', async () => {
    const placed = await send(await open('weighted_round_robin'), 90);
    expect(Math.max(...placed) - Math.min(...placed)).toBeLessThanOrEqual(2);
  });

  it('learned:FILE runs weights from a file', async () => {
    const file = policyFile();
    const r = await open(`learned:${file}`);
    expect((await send(r, 30)).reduce((a, b) => a + b)).toBe(30);
    expect(r.stats().policy).toBe(`learned:${file}`);
  });

  it('counts guard-rail fallbacks in the model stats and the native profile', async () => {
    // Feature 11 is (candidates / 16) = 3/16 here: an envelope that excludes it sends every decision to EFT.
    const n = loadAddon().sim.policyInputs;
    const lo = new Array(n).fill(-1e9), hi = new Array(n).fill(1e9);
    hi[11] = 0.1;
    const r = await open(`learned:${policyFile({ lo, hi })}`);
    await send(r, 40);
    expect(r.stats().models[0]!.policyFallbacks).toBe(40);
    expect(r.profileOf('slow')!.policyFallbacks).toBe(40);
  });

  describe('bad policy input', () => {
    const cases: [string, () => string, RegExp][] = [
      ['an unknown name', () => 'fastest', /unknown placement policy 'fastest'/],
      ['a missing weights file', () => 'learned:/nonexistent/policy.bin', /cannot read policy weights file '\/nonexistent\/policy.bin'/],
      ['learned: without a path', () => 'learned:', /needs a weights file path/],
      ['a file that is not a policy', () => {
        const file = join(tempDir(), 'not-a-policy.bin');
        writeFileSync(file, 'hello world, not weights');
        return `learned:${file}`;
      }, /bad magic/],
      ['a truncated policy file', () => {
        const file = policyFile();
        writeFileSync(file, readFileSync(file).subarray(0, -100));
        return `learned:${file}`;
      }, /truncated/],
      ['a corrupted policy file', () => {
        const file = policyFile();
        const bytes = readFileSync(file);
        bytes[200] ^= 0xff;
        writeFileSync(file, bytes);
        return `learned:${file}`;
      }, /checksum mismatch/],
    ];
    for (const [what, policy, message] of cases) {
      it(`rejects ${what} with INVALID_ARGUMENT`, async () => {
        const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig() }]);
        cleanups.push(repo.cleanup);
        const err = await rejected(Runtime.open({ modelRepository: repo.root, policy: policy() as PolicyName }));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toMatch(message);
      });
    }
  });
});
