/**
 * Trains the learned placement policy in the simulator:
 *
 * 1. Behaviour cloning: record earliest-finish-time's choices (with the features the policy sees) on
 *    randomised training episodes and fit the network to them (native, Adam, cross-entropy); then DAgger:
 *    record the states the clone itself reaches, labelled by EFT, and refit on all of it.
 * 2. Evolution strategies: antithetic Gaussian perturbations of all parameters, each pair scored on the
 *    same episodes (common random numbers: same arrivals, same execution noise), so the difference of
 *    a pair measures the perturbation, not the episode; the per-episode score of the unperturbed policy
 *    is the input-dependent baseline the training curve reports. Fitness: SLO attainment, with a small
 *    latency term so that low-load episodes (where attainment saturates) still rank policies.
 * 3. Checkpoints are chosen on validation episodes (a disjoint split, never the training ones) against
 *    EFT; the final envelope covers the features seen by the final policy and by EFT on training episodes.
 *
 * Deterministic for a seed: every episode and perturbation seed derives from it, rollouts return in task
 * order, and reductions run in a fixed order.
 */
import { loadAddon, type NativeDecisionDataset, type NativeSimConfig, type NativeSimPolicy } from '../binding.js';
import { sampleEpisode, type EpisodeOptions, type Split } from './episodes.js';
import { encodePolicy, type PolicyParts } from './policy-file.js';
import type { ProfileFile } from './profile-file.js';
import type { RolloutOutcome, RolloutTask } from './rollout-worker.js';
import type { RolloutRunner } from './rollout-pool.js';
import { deriveSeed } from './seeds.js';
import { simConfig, type SimScenario } from './sim-scenario.js';

export interface TrainOptions {
  seed: number;
  /** Behaviour cloning: episodes recorded (per round), epochs, and DAgger rounds after the first fit. */
  bcEpisodes: number;
  bcEpochs: number;
  daggerRounds: number;
  /** Evolution strategies. */
  generations: number;
  pairs: number;
  episodesPerGeneration: number;
  sigma: number;
  learningRate: number;
  /** Requests per training episode. */
  requests: number;
  /** Validation: episodes, and how often (generations). */
  validationEpisodes: number;
  validateEvery: number;
  /** Test episodes for the final simulated comparison (a disjoint split). */
  testEpisodes: number;
  trace?: number[];
  models?: string[];
  loadRange?: [number, number];
}

/** Defaults sized for about 8 minutes on 2 cores; `quick` for a CI-sized run of about 20 s. */
export function defaultTrainOptions(quick: boolean, seed = 1): TrainOptions {
  return quick
    ? { seed, bcEpisodes: 16, bcEpochs: 3, daggerRounds: 1, generations: 20, pairs: 6, episodesPerGeneration: 4, sigma: 0.05, learningRate: 0.01,
        requests: 3000, validationEpisodes: 8, validateEvery: 5, testEpisodes: 16 }
    : { seed, bcEpisodes: 60, bcEpochs: 4, daggerRounds: 2, generations: 300, pairs: 16, episodesPerGeneration: 8, sigma: 0.05, learningRate: 0.01,
        requests: 6000, validationEpisodes: 32, validateEvery: 10, testEpisodes: 64 };
}

export const FITNESS_LATENCY_WEIGHT = 0.02;

export function fitness(o: RolloutOutcome): number {
  return o.attainment - FITNESS_LATENCY_WEIGHT * o.meanNormLatency;
}

export interface CurvePoint {
  generation: number;
  /** Mean fitness of the unperturbed policy on the generation's training episodes. */
  train: number;
  /** Mean fitness on the validation episodes, and EFT's on the same episodes. */
  validation?: number;
  validationEft?: number;
}

export interface TestRow {
  policy: string;
  attainment: number;
  goodputRatio: number;
  p99Ratio: number;
  fallbacks: number;
}

export interface TrainResult {
  policy: PolicyParts;
  bc: { decisions: number; loss: number[]; accuracy: number[] };
  curve: CurvePoint[];
  best: { generation: number; validation: number; validationEft: number };
  /** Simulated comparison on the test split: means over episodes, ratios against EFT per episode. */
  test: TestRow[];
}

export type TrainProgress = (stage: 'bc' | 'es' | 'test', done: number, total: number, note: string) => void;

const TEST_POLICIES = ['round_robin', 'weighted_round_robin', 'least_outstanding', 'power_of_two', 'shortest_expected_delay', 'earliest_finish_time'];

export async function trainPolicy(profile: ProfileFile, o: TrainOptions, runner: RolloutRunner, progress: TrainProgress = () => {}): Promise<TrainResult> {
  const sim = loadAddon().sim;
  const episodeOptions: EpisodeOptions = { requests: o.requests, trace: o.trace, models: o.models, loadRange: o.loadRange };
  const episodes = (split: Split, from: number, count: number, requests = o.requests): SimScenario[] =>
    Array.from({ length: count }, (_, i) => sampleEpisode(profile, split, from + i, o.seed, { ...episodeOptions, requests }));
  const configs = (eps: SimScenario[], policy: NativeSimPolicy, record?: string): NativeSimConfig[] =>
    eps.map((e) => ({ ...simConfig(profile, e, policy), ...(record ? { record: { teacher: record } } : {}) }));
  // One task per policy: its episodes run back to back on one worker.
  const score = async (policies: NativeSimPolicy[], eps: SimScenario[]): Promise<RolloutOutcome[][]> =>
    runner.run(policies.map((p): RolloutTask => ({ configs: configs(eps, p) })));

  // 1. Behaviour cloning from EFT, then DAgger rounds: the clone acts, EFT labels the states the clone
  // itself reaches (its own mistakes lead where EFT's trajectories never go), and the network is refitted
  // on everything recorded so far.
  const record = async (eps: SimScenario[], acting: NativeSimPolicy, teacher: string): Promise<NativeDecisionDataset> => {
    const chunks = Math.max(1, Math.min(eps.length, 8));
    const recorded = await runner.run(Array.from({ length: chunks }, (_, c) => ({
      configs: configs(eps.filter((_, i) => i % chunks === c), acting, teacher),
    })));
    return concatDatasets(recorded.flat().map((r) => r.dataset!));
  };
  const steps = 2 + 2 * o.daggerRounds;
  progress('bc', 0, steps, 'recording EFT');
  let dataset = await record(episodes('train', 0, o.bcEpisodes), 'earliest_finish_time', 'self');
  const clone = (round: number) => {
    progress('bc', 1 + 2 * round, steps, `cloning ${dataset.labels.length} decisions`);
    return sim.behaviourClone(dataset, { epochs: o.bcEpochs, seed: deriveSeed(o.seed, 'bc', round), envelopeMargin: 0.25, maxErrorEwma: 0.5 });
  };
  let cloned = clone(0);
  for (let round = 1; round <= o.daggerRounds; round++) {
    const { loss: _l, accuracy: _a, ...acting } = cloned;
    progress('bc', 2 * round, steps, `DAgger round ${round}: recording the clone, labelled by EFT`);
    const eps = episodes('train', 500_000 * round, o.bcEpisodes);
    dataset = concatDatasets([dataset, await record(eps, { weights: encodePolicy(acting) }, 'earliest_finish_time')]);
    cloned = clone(round);
  }
  const { loss, accuracy, ...parts } = cloned;
  progress('bc', steps, steps, `imitation accuracy ${(accuracy.at(-1)! * 100).toFixed(1)}%`);

  // 2. Evolution strategies.
  const P = sim.policyParams;
  const theta = Float32Array.from(parts.params);
  const m = new Float64Array(P), v = new Float64Array(P);
  const withParams = (params: Float32Array): { weights: Buffer } => ({ weights: encodePolicy({ ...parts, params }) });
  const valEps = episodes('validation', 0, o.validationEpisodes);
  const eftVal = mean((await score(['earliest_finish_time'], valEps))[0]!.map(fitness));
  const validate = async () => mean((await score([withParams(theta)], valEps))[0]!.map(fitness));
  let best = { generation: 0, validation: await validate(), validationEft: eftVal, params: Float32Array.from(theta) };
  const curve: CurvePoint[] = [{ generation: 0, train: NaN, validation: best.validation, validationEft: eftVal }];
  for (let g = 1; g <= o.generations; g++) {
    const eps = episodes('train', 1_000_000 + g * o.episodesPerGeneration, o.episodesPerGeneration);
    const noise = Array.from({ length: o.pairs }, (_, i) => sim.gaussianNoise(deriveSeed(o.seed, 'es', g, i), P));
    const candidates: NativeSimPolicy[] = [withParams(theta)];
    for (const eps_i of noise) {
      for (const sign of [1, -1]) candidates.push(withParams(theta.map((t, k) => t + sign * o.sigma * eps_i[k]!)));
    }
    const results = await score(candidates, eps);
    const f = results.map((r) => r.map(fitness));
    // Antithetic differences, summed over the shared episodes, scaled to unit spread.
    const diffs = noise.map((_, i) => f[1 + 2 * i]!.reduce((a, x, e) => a + x - f[2 + 2 * i]![e]!, 0));
    const spread = Math.sqrt(mean(diffs.map((d) => d * d))) || 1;
    const grad = new Float64Array(P);
    noise.forEach((eps_i, i) => {
      const w = diffs[i]! / spread / (o.pairs * o.sigma);
      for (let k = 0; k < P; k++) grad[k]! += w * eps_i[k]!;
    });
    adamAscent(theta, grad, m, v, g, o.learningRate);
    const point: CurvePoint = { generation: g, train: mean(f[0]!) };
    if (g % o.validateEvery === 0 || g === o.generations) {
      point.validation = await validate();
      point.validationEft = eftVal;
      if (point.validation > best.validation) best = { generation: g, validation: point.validation, validationEft: eftVal, params: Float32Array.from(theta) };
    }
    curve.push(point);
    progress('es', g, o.generations, `train ${point.train.toFixed(4)}${point.validation !== undefined ? `, validation ${(point.validation - eftVal >= 0 ? '+' : '')}${(point.validation - eftVal).toFixed(4)} vs EFT` : ''}`);
  }

  // 3. The envelope: what the chosen policy and EFT see on training episodes, widened.
  const chosen: PolicyParts = { ...parts, params: best.params };
  const envEps = episodes('train', 2_000_000, Math.max(4, Math.round(o.bcEpisodes / 3)));
  const seen = await runner.run([
    { configs: configs(envEps, { weights: encodePolicy(chosen) }, 'self') },
    { configs: configs(envEps, 'earliest_finish_time', 'self') },
  ]);
  const env = sim.fitEnvelope(concatDatasets([dataset, ...seen.flat().map((r) => r.dataset!)]), 0.25);
  chosen.envelopeLo = env.lo;
  chosen.envelopeHi = env.hi;

  // 4. Simulated comparison on the test split.
  progress('test', 0, 1, 'test episodes');
  const testEps = episodes('test', 0, o.testEpisodes);
  const testPolicies = [...TEST_POLICIES, 'learned'];
  const testResults = await score([...TEST_POLICIES, { weights: encodePolicy(chosen) }], testEps);
  const eft = testResults[TEST_POLICIES.indexOf('earliest_finish_time')]!;
  const test = testResults.map((r, p): TestRow => ({
    policy: testPolicies[p]!,
    attainment: mean(r.map((x) => x.attainment)),
    goodputRatio: mean(r.map((x, e) => (eft[e]!.goodput > 0 ? x.goodput / eft[e]!.goodput : 1))),
    p99Ratio: geomean(r.map((x, e) => x.p99Ms / eft[e]!.p99Ms)),
    fallbacks: r.reduce((a, x) => a + x.fallbacks, 0),
  }));
  progress('test', 1, 1, 'done');
  return {
    policy: chosen,
    bc: { decisions: dataset.labels.length, loss, accuracy },
    curve,
    best: { generation: best.generation, validation: best.validation, validationEft: best.validationEft },
    test,
  };
}

function adamAscent(theta: Float32Array, grad: Float64Array, m: Float64Array, v: Float64Array, step: number, lr: number): void {
  const b1 = 0.9, b2 = 0.999, c1 = 1 - b1 ** step, c2 = 1 - b2 ** step;
  for (let k = 0; k < theta.length; k++) {
    m[k] = b1 * m[k]! + (1 - b1) * grad[k]!;
    v[k] = b2 * v[k]! + (1 - b2) * grad[k]! * grad[k]!;
    theta[k] = theta[k]! + (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + 1e-8);
  }
}

export function concatDatasets(parts: NativeDecisionDataset[]): NativeDecisionDataset {
  const rows = parts.reduce((a, d) => a + d.offsets[d.offsets.length - 1]!, 0);
  const decisions = parts.reduce((a, d) => a + d.labels.length, 0);
  const width = loadAddon().sim.policyInputs;
  const out = { features: new Float32Array(rows * width), offsets: new Uint32Array(decisions + 1), labels: new Uint8Array(decisions) };
  let row = 0, dec = 0;
  for (const d of parts) {
    out.features.set(d.features, row * width);
    out.labels.set(d.labels, dec);
    for (let i = 1; i < d.offsets.length; i++) out.offsets[dec + i] = row + d.offsets[i]!;
    row += d.offsets[d.offsets.length - 1]!;
    dec += d.labels.length;
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function geomean(xs: number[]): number {
  const finite = xs.filter((x) => Number.isFinite(x) && x > 0);
  return finite.length ? Math.exp(mean(finite.map(Math.log))) : NaN;
}
