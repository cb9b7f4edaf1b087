// Training the learned policy: reproducible for a seed (inline and on worker threads alike), different for
// another seed, and the CLI's usage errors. Tiny settings: this checks behaviour, not the policy's quality.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/binding.js';
import { run as trainCli } from '../src/cli/train-policy-command.js';
import { encodePolicy } from '../src/placement/policy-file.js';
import { validateProfile, type ProfileFile } from '../src/placement/profile-file.js';
import { createRolloutRunner, type RolloutRunner } from '../src/placement/rollout-pool.js';
import { defaultTrainOptions, trainPolicy, type TrainOptions } from '../src/placement/trainer.js';

const profile: ProfileFile = validateProfile(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'bench', 'results', 'placement-profile.json'), 'utf8')), 'test');

const tiny = (seed: number): TrainOptions => ({
  ...defaultTrainOptions(true, seed),
  bcEpisodes: 3, bcEpochs: 2, daggerRounds: 1, generations: 2, pairs: 2, episodesPerGeneration: 2, requests: 400,
  validationEpisodes: 2, validateEvery: 1, testEpisodes: 2,
});

const runners: RolloutRunner[] = [];
afterAll(async () => { for (const r of runners) await r.close(); });
function runner(threads: number): RolloutRunner {
  const r = createRolloutRunner(threads);
  runners.push(r);
  return r;
}

describe('train-policy', () => {
  it('gives the same weights for the same seed, on this thread or on workers', async () => {
    const a = await trainPolicy(profile, tiny(7), runner(0));
    const b = await trainPolicy(profile, tiny(7), runner(0));
    const c = await trainPolicy(profile, tiny(7), runner(2));
    expect(encodePolicy(b.policy).equals(encodePolicy(a.policy))).toBe(true);
    expect(encodePolicy(c.policy).equals(encodePolicy(a.policy))).toBe(true);
    expect(b.curve).toEqual(a.curve);
    expect(a.test.map((r) => r.policy)).toContain('learned');
    expect(a.bc.loss[1]).toBeLessThan(a.bc.loss[0]!);  // the clone learns (deterministic for the seed)
  });

  it('gives other weights for another seed', async () => {
    const a = await trainPolicy(profile, tiny(7), runner(0));
    const b = await trainPolicy(profile, tiny(8), runner(0));
    expect(encodePolicy(b.policy).equals(encodePolicy(a.policy))).toBe(false);
  });

  describe('bad usage exits 2', () => {
    const cases: [string, string[]][] = [
      ['no profile', ['--out', '/tmp/x.bin']],
      ['a missing profile file', ['--profile', '/nonexistent/profile.json']],
      ['a negative seed', ['--profile', join(PACKAGE_ROOT, 'bench', 'results', 'placement-profile.json'), '--seed', '-1']],
      ['an unprofiled model', ['--profile', join(PACKAGE_ROOT, 'bench', 'results', 'placement-profile.json'), '--model', 'nope', '--quiet']],
    ];
    for (const [what, argv] of cases) {
      it(what, async () => {
        const write = process.stderr.write;
        process.stderr.write = (() => true) as never;
        try {
          expect(await trainCli(argv)).toBe(2);
        } finally {
          process.stderr.write = write;
        }
      });
    }
  });
});
