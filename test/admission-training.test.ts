// The learned admission head and its training: w = 0 is deadline admission exactly (the same requests shed
// in the simulator), the bundled weights are what the compiled include says, training is reproducible for a
// seed, and the CLI's usage errors. Tiny settings: this checks behaviour, not the head's quality.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, PACKAGE_ROOT } from '../src/binding.js';
import { run as trainCli } from '../src/cli/train-policy-command.js';
import { admissionWeightsInc, defaultAdmissionOptions, trainAdmission, type AdmissionTrainOptions } from '../src/placement/admission-trainer.js';
import { validateProfile, type ProfileFile } from '../src/placement/profile-file.js';
import { simConfig } from '../src/placement/sim-scenario.js';

const profilePath = join(PACKAGE_ROOT, 'bench', 'results', 'placement-devices-profile.json');
const profile: ProfileFile = validateProfile(JSON.parse(readFileSync(profilePath, 'utf8')), 'test');
const model = Object.keys(profile.models)[0]!;
const sim = loadAddon().sim;

const tiny = (seed: number): AdmissionTrainOptions => ({
  ...defaultAdmissionOptions(true, seed), generations: 2, pairs: 2, episodes: 2, validationEpisodes: 2, testEpisodes: 2, requests: 600,
});

describe('learned admission head', () => {
  it('with zero weights it sheds exactly what deadline admission sheds', () => {
    const scenario = { model, speeds: [1, 1, 2], process: 'gamma:4', load: 1.6, sloMs: 30, sloToPolicy: true, requests: 3000, seed: 3 };
    const deadline = sim.simulate({ ...simConfig(profile, scenario, 'earliest_finish_time'), admission: 'deadline', options: { ...simConfig(profile, scenario, 'earliest_finish_time').options, keepLatencies: true } });
    const zero = sim.simulate({ ...simConfig(profile, scenario, 'earliest_finish_time'), admission: { learnedWeights: new Float32Array(sim.admissionFeatures) }, options: { ...simConfig(profile, scenario, 'earliest_finish_time').options, keepLatencies: true } });
    expect(deadline.shed).toBeGreaterThan(100);  // the scenario is overloaded: something to decide
    expect(zero.shed).toBe(deadline.shed);
    expect(Array.from(zero.latenciesMs!)).toEqual(Array.from(deadline.latenciesMs!));
    expect(zero.shedByReason.learned).toBe(deadline.shedByReason.deadline);
  });

  it('bad input: learnedWeights of the wrong length is a TypeError', () => {
    const scenario = { model, speeds: [1], process: 'poisson', load: 0.5, sloMs: 30, sloToPolicy: true, requests: 100, seed: 1 };
    expect(() => sim.simulate({ ...simConfig(profile, scenario, 'round_robin'), admission: { learnedWeights: new Float32Array(3) } })).toThrow(/learnedWeights needs 9/);
  });

  it('the compiled include holds the bundled weights', () => {
    const inc = readFileSync(join(PACKAGE_ROOT, 'native', 'core', 'learned_admission_weights.inc'), 'utf8');
    const body = admissionWeightsInc(sim.bundledAdmissionWeights, 'x').split('\n')[1];
    expect(inc.split('\n')[1]).toBe(body);
  });

  it('gives the same weights for the same seed and reports the held-out comparison', () => {
    const a = trainAdmission(profile, tiny(5));
    const b = trainAdmission(profile, tiny(5));
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(a.test.map((t) => t.split)).toEqual(['test (held-out trace windows and loads)', 'held-out process (MMPP bursts)']);
    for (const t of a.test) {
      expect(t.oracle).toBeGreaterThanOrEqual(t.bestCombination - 1e-12);
      expect(t.ratio).toBeCloseTo(t.learned / t.bestCombination, 12);
    }
  });

  it('serval train-policy --head admission writes the weights; a bad --head is a usage error (exit 2)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'serval-admission-')), 'admission.json');
    expect(await trainCli(['--head', 'admission', '--profile', profilePath, '--quick', '--generations', '1', '--trace', 'none', '--out', out, '--quiet'])).toBe(0);
    const record = JSON.parse(readFileSync(out, 'utf8'));
    expect(record.weights).toHaveLength(sim.admissionFeatures);
    expect(await trainCli(['--head', 'sideways', '--profile', profilePath, '--quiet'])).toBe(2);
  });
});
