// Explanations: permutation SHAP gives the exact Shapley values of a linear model and is additive for any
// model (attributions sum to prediction - baseline within the reported error); through the runtime on the
// bundled fraud model the prediction and baseline are the model's own answers; the deadline cancels what
// is queued; bad models, inputs and options fail with their codes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attribute, plan, walksFor } from '../src/explain/permutation-shap.js';
import { Runtime } from '../src/index.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { rejected } from './helpers/caught.js';
import { makeRepo } from './helpers/temp-repo.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

/** Evaluates every planned row with `f`. */
function evaluateAll(p: ReturnType<typeof plan>, f: (row: Float32Array) => number): Float64Array {
  const v = new Float64Array(p.rowCount);
  for (let r = 0; r < p.rowCount; r++) v[r] = f(p.rows.subarray(r * p.features, (r + 1) * p.features));
  return v;
}

const row = (n: number, g: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => g(i));

describe('permutation SHAP', () => {
  it('is exact for a linear model: w_i (x_i - z_i), from a single permutation', () => {
    const w = row(6, (i) => i - 2.5);
    const f = (r: Float32Array) => r.reduce((s, v, i) => s + v * w[i]!, 0.5);
    const x = row(6, (i) => i * 0.5);
    const z = row(6, () => 1);
    const p = plan(x, [z], 1, 7);
    const a = attribute(p, evaluateAll(p, f), [0]);
    a.attributions.forEach((phi, i) => expect(phi).toBeCloseTo(w[i]! * (x[i]! - z[i]!), 5));
    expect(a.baseline).toBeCloseTo(f(z), 6);
  });

  it('is additive for a non-linear model with interactions, over several background rows', () => {
    const f = (r: Float32Array) => Math.tanh(r[0]! * r[1]! - r[2]!) + r[3]! ** 2 * r[4]!;
    const x = row(5, (i) => 0.3 * i - 0.4);
    const bg = [row(5, () => 0), row(5, (i) => i % 2), row(5, () => -0.5)];
    const p = plan(x, bg, 6, 3);
    const a = attribute(p, evaluateAll(p, f), [0, 1, 2, 3, 4, 5]);
    const sum = a.attributions.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (a.prediction - a.baseline))).toBeLessThanOrEqual(a.additivityError + 1e-12);
    expect(a.additivityError).toBeLessThan(1e-9);
    expect(a.baseline).toBeCloseTo((f(bg[0]!) * 2 + f(bg[1]!) * 2 + f(bg[2]!) * 2) / 6, 6);
    expect(a.standardError).toHaveLength(5);
    // The interaction x0*x1 is shared between features 0 and 1, never given to an unrelated feature.
    expect(a.attributions[0]).not.toBe(0);
  });

  it('antithetic pairs: odd walk counts round down to a pair, and the budget bounds the evaluations', () => {
    expect(walksFor(256, 128, 1)).toBe(2);
    expect(walksFor(128, 128, 1)).toBe(0);
    expect(walksFor(1000, 10, 4)).toBe(110);
    const p = plan(row(128, () => 1), [row(128, () => 0)], walksFor(256, 128, 1), 1);
    expect(p.rowCount).toBe(256);
    expect(Array.from(p.orders[1]!)).toEqual(Array.from(p.orders[0]!).reverse());
  });
});

describe('rt.explain', () => {
  it('fraud_mlp, 256 samples: attributions sum to prediction - baseline; both are the model\'s answers', async () => {
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'] });
    cleanups.push(() => rt.close());
    const x = { features: { data: row(128, (i) => Math.sin(i)), dims: [1, 128] } };
    const bg = [row(128, (i) => Math.cos(i) * 0.1), row(128, () => 0.2)];
    const e = await rt.explain('fraud_mlp', x, { samples: 400, background: bg });
    expect(e).toMatchObject({ model: 'fraud_mlp', version: 1, method: 'permutation_shap', output: 'probability', outputIndex: 0, background: { rows: 2, source: 'request' } });
    expect(e.budget).toMatchObject({ samples: 400, permutations: 2, evaluations: 1 + 2 + 2 * 127, truncated: false });
    expect(e.attributions).toHaveLength(128);
    const sum = e.attributions.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (e.prediction - e.baseline))).toBeLessThanOrEqual(e.additivityError + 1e-12);
    const direct = (await rt.infer('fraud_mlp', x)).probability!.data[0] as number;
    expect(e.prediction).toBeCloseTo(direct, 5);
    const b0 = (await rt.infer('fraud_mlp', { features: { data: bg[0]!, dims: [1, 128] } })).probability!.data[0] as number;
    const b1 = (await rt.infer('fraud_mlp', { features: { data: bg[1]!, dims: [1, 128] } })).probability!.data[0] as number;
    expect(e.baseline).toBeCloseTo((b0 + b1) / 2, 5);
    // The same seed, input and background give the same attribution.
    expect((await rt.explain('fraud_mlp', x, { samples: 400, background: bg })).attributions).toEqual(e.attributions);
  });

  it('the background may come from the model config (explain_background)', async () => {
    const repo = makeRepo([{ name: 'fraud', from: 'fraud_mlp', config: 'name: "{name}"\nmax_batch_size: 64\nparameters { key: "explain_background" value { string_value: "bg.json" } }' }]);
    cleanups.push(repo.cleanup);
    writeFileSync(path.join(repo.root, 'fraud', 'bg.json'), JSON.stringify([new Array(128).fill(0.1)]));
    const rt = await Runtime.open({ modelRepository: repo.root });
    cleanups.push(() => rt.close());
    const e = await rt.explain('fraud', { features: { data: row(128, () => 1), dims: [1, 128] } });
    expect(e.background).toEqual({ rows: 1, source: 'config' });
    expect(e.budget.evaluations).toBe(256);
  });

  it('the deadline cancels queued evaluations: TIMEOUT when no permutation finished', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'fraud_mlp', config: 'name: "{name}"\nmax_batch_size: 8\ndynamic_batching { }\nparameters { key: "device_latency_model" value { string_value: "1:40,8:40" } }' }]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root, warmup: false });
    cleanups.push(() => rt.close());
    const started = performance.now();
    const err = await rejected(rt.explain('slow', { features: { data: row(128, () => 1), dims: [1, 128] } }, { deadlineMs: 60 }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/no permutation .* finished within deadlineMs 60/);
    expect(performance.now() - started).toBeLessThan(5000); // answered at the deadline, not after 32 batches of 40 ms
  });

  it('bad input: non-tabular models, wrong rows, too small budgets and unknown options fail with their codes', async () => {
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp', 'image_cnn'] });
    cleanups.push(() => rt.close());
    const x = { features: { data: row(128, () => 1), dims: [1, 128] } };
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => rt.explain('image_cnn', { image: { data: new Float32Array(3072), dims: [1, 3, 32, 32] } }), 'INVALID_ARGUMENT', /tabular models/],
      [() => rt.explain('fraud_mlp', { features: { data: row(256, () => 1), dims: [2, 128] } }), 'INVALID_INPUT', /one row of 128/],
      [() => rt.explain('fraud_mlp', { other: { data: row(128, () => 1), dims: [1, 128] } }), 'INVALID_INPUT', /exactly the input 'features'/],
      [() => rt.explain('fraud_mlp', { features: { data: row(128, () => NaN), dims: [1, 128] } }), 'INVALID_INPUT', /finite/],
      [() => rt.explain('fraud_mlp', x, { samples: 100 }), 'INVALID_ARGUMENT', /samples 100 is too few/],
      [() => rt.explain('fraud_mlp', x, { samples: 0 }), 'INVALID_ARGUMENT', /samples must be an integer >= 1/],
      [() => rt.explain('fraud_mlp', x, { background: [[1, 2]] }), 'INVALID_ARGUMENT', /background row 0 must be 128 finite numbers/],
      [() => rt.explain('fraud_mlp', x, { output: 'nope' }), 'INVALID_ARGUMENT', /no output 'nope'/],
      [() => rt.explain('fraud_mlp', x, { outputIndex: 3 }), 'INVALID_ARGUMENT', /outputIndex 3 is past/],
      [() => rt.explain('fraud_mlp', x, { sample: 5 } as never), 'INVALID_ARGUMENT', /unknown option\(s\) sample/],
      [() => rt.explain('missing', x), 'UNKNOWN_MODEL', /missing/],
    ];
    for (const [p, code, pattern] of cases) {
      const err = await rejected(p());
      expect(err.code, err.message).toBe(code);
      expect(err.message).toMatch(pattern);
    }
    // A good request after all of them is served.
    expect((await rt.explain('fraud_mlp', x)).attributions).toHaveLength(128);
  });
});
