/**
 * Training of the learned policy's admission head (native/core/learned_admission_policy.h) in the
 * simulator, and its evaluation against every heuristic combination.
 *
 * The head scales the deadline budget a request is admitted against: theta = min(1, 1 + 0.5 tanh(w . features)).
 * w = 0 is deadline admission exactly, so training starts from the strongest heuristic (the teacher) and
 * improves on it with evolution strategies: antithetic Gaussian perturbations scored on the same episodes
 * (common random numbers: same arrivals, same execution noise), Adam on the estimated gradient. Fitness is
 * SLO attainment, i.e. goodput at each episode's offered rate: a request shed that could have made it
 * costs exactly what it would have earned. The checkpoint is chosen on validation episodes.
 *
 * Episodes (episodes.ts) are randomised over clusters, speeds, SLOs and loads 0.5-2.2x capacity with
 * Poisson, Gamma and trace-window arrivals; the test adds held-out trace windows (the trace's last 20%)
 * and a held-out arrival process never used in training (on/off MMPP bursts).
 */
import { loadAddon, type NativeSimConfig, type NativeSimResult } from '../binding.js';
import { sampleEpisode, type Split } from './episodes.js';
import type { ProfileFile } from './profile-file.js';
import { deriveSeed } from './seeds.js';
import { simConfig, type SimScenario } from './sim-scenario.js';

export interface AdmissionTrainOptions {
  seed: number;
  generations: number;
  /** Antithetic pairs per generation. */
  pairs: number;
  sigma: number;
  learningRate: number;
  /** Episodes per generation (the same for every perturbation), and for validation and test. */
  episodes: number;
  validationEpisodes: number;
  testEpisodes: number;
  requests: number;
  trace?: number[];
  models?: string[];
}

export function defaultAdmissionOptions(quick: boolean, seed = 1): AdmissionTrainOptions {
  return quick
    ? { seed, generations: 4, pairs: 4, sigma: 0.3, learningRate: 0.1, episodes: 4, validationEpisodes: 4, testEpisodes: 4, requests: 1500 }
    : { seed, generations: 40, pairs: 8, sigma: 0.3, learningRate: 0.05, episodes: 8, validationEpisodes: 16, testEpisodes: 24, requests: 6000 };
}

/** The heuristic combinations the learned joint policy is measured against (JSQ included). */
export const HEURISTIC_PLACEMENTS = ['least_outstanding', 'power_of_two', 'earliest_finish_time'] as const;
export const HEURISTIC_ADMISSIONS = ['none', 'deadline', 'codel', 'adaptive_concurrency'] as const;

const LOADS: [number, number] = [0.5, 2.2];

/** Training and validation episodes: no MMPP (held out for the test). */
function episode(profile: ProfileFile, split: Split, index: number, o: AdmissionTrainOptions, heldOutProcess = false): SimScenario {
  const s = sampleEpisode(profile, split, index, deriveSeed(o.seed, 'admission'), { requests: o.requests, trace: o.trace, models: o.models, loadRange: LOADS });
  s.sloToPolicy = true;  // admission acts on the SLO: the runtime hands it over when slo_ms is set
  const isMmpp = typeof s.process === 'string' && s.process.startsWith('mmpp');
  if (heldOutProcess) {
    const peak = 3 + (index % 5) * 1.5;
    s.process = `mmpp:peak=${peak},on=0.1,off=${(0.1 * (peak - 1) * 1.5).toFixed(3)}`;
  } else if (isMmpp) {
    s.process = `gamma:${(2 + (index % 7)).toFixed(1)}`;
  }
  return s;
}

function run(profile: ProfileFile, s: SimScenario, placement: string, admission: string | Float32Array): NativeSimResult {
  const cfg: NativeSimConfig = simConfig(profile, s, placement);
  if (typeof admission === 'string') {
    if (admission !== 'none') cfg.admission = admission;
  } else {
    cfg.admission = { learnedWeights: admission };
  }
  return loadAddon().sim.simulate(cfg);
}

function meanAttainment(profile: ProfileFile, eps: SimScenario[], weights: Float32Array): number {
  let sum = 0;
  for (const s of eps) sum += run(profile, s, 'learned', weights).attainment;
  return sum / eps.length;
}

export interface AdmissionTestRow {
  split: 'test (held-out trace windows and loads)' | 'held-out process (MMPP bursts)';
  episodes: number;
  /** Mean attainment of the learned joint policy (learned placement + learned admission). */
  learned: number;
  /** Mean attainment of the best single heuristic combination over the split, and which one it is. */
  bestCombination: number;
  bestCombinationName: string;
  /** Mean over episodes of the best heuristic combination for that episode (an oracle over heuristics). */
  oracle: number;
  /** learned / best combination (goodput ratio at equal offered rates). */
  ratio: number;
}

export interface AdmissionTrainResult {
  weights: Float32Array;
  curve: { generation: number; train: number; validation: number }[];
  best: { generation: number; validation: number; validationDeadline: number };
  test: AdmissionTestRow[];
}

export type AdmissionProgress = (stage: 'es' | 'test', done: number, total: number, note: string) => void;

function gaussian(seed: number, n: number): Float32Array {
  return loadAddon().sim.gaussianNoise(seed, n);
}

export function trainAdmission(profile: ProfileFile, o: AdmissionTrainOptions, progress: AdmissionProgress = () => {}): AdmissionTrainResult {
  const sim = loadAddon().sim;
  const dims = sim.admissionFeatures;
  let w = new Float32Array(dims);  // deadline admission
  const m = new Float64Array(dims), v = new Float64Array(dims);
  const validation = Array.from({ length: o.validationEpisodes }, (_, i) => episode(profile, 'validation', i, o));
  const validationDeadline = validation.reduce((a, s) => a + run(profile, s, 'learned', 'deadline').attainment, 0) / validation.length;
  let best = { generation: 0, validation: meanAttainment(profile, validation, w), validationDeadline, weights: w.slice() };
  const curve: AdmissionTrainResult['curve'] = [{ generation: 0, train: NaN, validation: best.validation }];
  for (let g = 1; g <= o.generations; g++) {
    const eps = Array.from({ length: o.episodes }, (_, i) => episode(profile, 'train', g * 1000 + i, o));
    const grad = new Float64Array(dims);
    let trainSum = 0;
    for (let p = 0; p < o.pairs; p++) {
      const eps_ = gaussian(deriveSeed(o.seed, 'admission-es', g, p), dims);
      const plus = new Float32Array(dims), minus = new Float32Array(dims);
      for (let k = 0; k < dims; k++) {
        plus[k] = w[k]! + o.sigma * eps_[k]!;
        minus[k] = w[k]! - o.sigma * eps_[k]!;
      }
      const fp = meanAttainment(profile, eps, plus), fm = meanAttainment(profile, eps, minus);
      trainSum += (fp + fm) / 2;
      for (let k = 0; k < dims; k++) grad[k]! += ((fp - fm) / (2 * o.sigma * o.pairs)) * eps_[k]!;
    }
    // Adam ascent.
    const next = new Float32Array(dims);
    for (let k = 0; k < dims; k++) {
      m[k] = 0.9 * m[k]! + 0.1 * grad[k]!;
      v[k] = 0.999 * v[k]! + 0.001 * grad[k]! * grad[k]!;
      const mh = m[k]! / (1 - 0.9 ** g), vh = v[k]! / (1 - 0.999 ** g);
      next[k] = w[k]! + (o.learningRate * mh) / (Math.sqrt(vh) + 1e-8);
    }
    w = next;
    const val = meanAttainment(profile, validation, w);
    curve.push({ generation: g, train: trainSum / o.pairs, validation: val });
    if (val > best.validation) best = { generation: g, validation: val, validationDeadline, weights: w.slice() };
    progress('es', g, o.generations, `validation ${val.toFixed(4)} (deadline ${validationDeadline.toFixed(4)})`);
  }
  const test = [
    evaluate(profile, 'test (held-out trace windows and loads)', Array.from({ length: o.testEpisodes }, (_, i) => episode(profile, 'test', i, o)), best.weights),
    evaluate(profile, 'held-out process (MMPP bursts)', Array.from({ length: o.testEpisodes }, (_, i) => episode(profile, 'test', 10_000 + i, o, true)), best.weights),
  ];
  progress('test', 1, 1, '');
  return { weights: best.weights, curve, best: { generation: best.generation, validation: best.validation, validationDeadline }, test };
}

function evaluate(profile: ProfileFile, split: AdmissionTestRow['split'], eps: SimScenario[], weights: Float32Array): AdmissionTestRow {
  const learned = eps.map((s) => run(profile, s, 'learned', weights).attainment);
  const combos: { name: string; per: number[] }[] = [];
  for (const p of HEURISTIC_PLACEMENTS) {
    for (const a of HEURISTIC_ADMISSIONS) combos.push({ name: `${p}+${a}`, per: eps.map((s) => run(profile, s, p, a).attainment) });
  }
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
  const bestCombo = combos.reduce((a, b) => (mean(b.per) > mean(a.per) ? b : a));
  const oracle = mean(eps.map((_, i) => Math.max(...combos.map((c) => c.per[i]!))));
  return {
    split, episodes: eps.length, learned: mean(learned), bestCombination: mean(bestCombo.per), bestCombinationName: bestCombo.name,
    oracle, ratio: mean(learned) / mean(bestCombo.per),
  };
}

/** The compiled-weights include (native/core/learned_admission_weights.inc): 9 significant digits round-trip float32. */
export function admissionWeightsInc(weights: Float32Array, note: string): string {
  const values = Array.from(weights, (x) => {
    const t = Math.fround(x).toPrecision(9);
    return `${/[.e]/.test(t) ? t : `${t}.0`}f`;
  });
  return `// Generated by serval train-policy --head admission (${note}). Do not edit.\n${values.join(', ')}\n`;
}
