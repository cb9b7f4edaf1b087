/**
 * Multi-model mixes: which model each arrival goes to. `--mix fraud_mlp=0.7,cnn=0.3` gives explicit weights
 * (normalised); `--mix zipf:ALPHA` gives the repository's models, sorted by name, weights 1/rank^ALPHA.
 * Model choice draws from its own seeded stream, so changing the mix does not move arrival times.
 */
import { BenchError, invalidArgument } from './errors.js';
import { parseNonNegativeNumber, parsePositiveNumber, splitOnce } from './parse.js';
import type { Rng } from './rng.js';

export interface ModelMix {
  models: string[];
  /** Normalised: sums to 1. */
  weights: number[];
}

export type MixSpec = { kind: 'weights'; entries: Array<{ model: string; weight: number }> } | { kind: 'zipf'; alpha: number };

export function parseMixSpec(text: string): MixSpec {
  const [head, rest] = splitOnce(text.trim(), ':');
  if (head === 'zipf') {
    if (rest === undefined) throw invalidArgument(`--mix zipf needs an exponent, e.g. zipf:1.0`);
    return { kind: 'zipf', alpha: parseNonNegativeNumber(rest, '--mix zipf exponent') };
  }
  const entries = text.split(',').map((part) => {
    const [model, weight] = splitOnce(part.trim(), '=');
    if (!model || weight === undefined) throw invalidArgument(`--mix entries are MODEL=WEIGHT, got '${part}' (or use zipf:ALPHA)`);
    return { model, weight: parsePositiveNumber(weight, `--mix weight of ${model}`) };
  });
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.model)) throw invalidArgument(`--mix names ${e.model} twice`);
    seen.add(e.model);
  }
  return { kind: 'weights', entries };
}

/** Resolves a mix against the models the target serves (unknown names are an UNKNOWN_MODEL error). */
export function resolveMix(spec: MixSpec, available: readonly string[]): ModelMix {
  if (spec.kind === 'zipf') {
    const models = [...available].sort();
    if (models.length === 0) throw new BenchError('UNKNOWN_MODEL', 'the target serves no models to mix');
    return normalise(models, models.map((_, i) => 1 / Math.pow(i + 1, spec.alpha)));
  }
  for (const e of spec.entries) {
    if (!available.includes(e.model)) {
      throw new BenchError('UNKNOWN_MODEL', `--mix: unknown model '${e.model}' (the target serves: ${available.join(', ') || 'none'})`);
    }
  }
  return normalise(spec.entries.map((e) => e.model), spec.entries.map((e) => e.weight));
}

export function singleModel(model: string): ModelMix {
  return { models: [model], weights: [1] };
}

export function formatMix(mix: ModelMix): string {
  return mix.models.map((m, i) => `${m}=${mix.weights[i].toFixed(3)}`).join(',');
}

/** Returns a chooser of model indices drawn with the mix's weights. */
export function modelChooser(mix: ModelMix, rng: Rng): () => number {
  if (mix.models.length === 1) return () => 0;
  const cumulative: number[] = [];
  let total = 0;
  for (const w of mix.weights) cumulative.push((total += w));
  return () => rng.pickCumulative(cumulative);
}

function normalise(models: string[], weights: number[]): ModelMix {
  const total = weights.reduce((a, b) => a + b, 0);
  return { models, weights: weights.map((w) => w / total) };
}
