/**
 * Explanations computed through the runtime: the permutation-SHAP rows (permutation-shap.ts) are sent as
 * concurrent batched requests of `chunkRows` rows at the model's lowest priority level, so the native
 * batcher runs them beside live traffic and after it; a deadline cancels what is still queued and the
 * permutations that finished are used. Tabular models only: one FP32 input of shape [-1, M].
 */
import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { InferInputs, InferOptions, InferOutputs } from '../api-types.js';
import { InvalidArgumentError, InvalidInputError, ServalError, TimeoutError } from '../errors.js';
import type { ModelConfig } from '../repository/model-config.js';
import { resolveExplainOptions, type Explanation, type ExplainOptions, type ResolvedExplainOptions } from './explain-options.js';
import { attribute, plan, walksFor, walkStart, type PermutationPlan } from './permutation-shap.js';

/** What the explainer needs from the runtime (src/runtime.ts implements it). */
export interface ExplainHost {
  inferUnaudited(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs>;
  config(model: string, version?: number): ModelConfig;
  servingVersion(model: string): number | undefined;
  readonly repository: { modelDir(name: string): string };
}

const DEFAULT_CHUNK_ROWS = 32;
const BACKGROUND_PARAMETER = 'explain_background';

export async function explain(host: ExplainHost, model: string, inputs: InferInputs, options?: ExplainOptions): Promise<Explanation> {
  const started = performance.now();
  const o = resolveExplainOptions(options);
  const config = host.config(model, o.version);
  const version = o.version ?? host.servingVersion(model) ?? 0;
  const { input, features } = tabularInput(config);
  const x = featureRow(inputs, input, features);
  const output = o.output ?? config.output[0]!.name;
  if (!config.output.some((t) => t.name === output)) throw new InvalidArgumentError(`explain: model '${model}' has no output '${output}'`);
  const { rows: background, source } = await backgroundRows(host, config, model, o, features);
  const walks = walksFor(o.samples, features, background.length);
  if (walks === 0) {
    throw new InvalidArgumentError(`explain: samples ${o.samples} is too few: one permutation of ${features} features needs ${features + 1} evaluations`);
  }
  const p = plan(x, background, walks, o.seed);
  const values = await evaluate(host, model, config, p, o, input, output, version);
  const complete = p.orders.map((_, w) => w).filter((w) => walkDone(p, values, w));
  if (Number.isNaN(values[0]!) || complete.length === 0) {
    throw new TimeoutError(`explain: no permutation of model '${model}' finished within deadlineMs ${o.deadlineMs}`);
  }
  const a = attribute(p, values, complete);
  const evaluations = 1 + p.backgroundRows.length + complete.length * Math.max(0, features - 1);
  return {
    model,
    version,
    method: 'permutation_shap',
    output,
    outputIndex: o.outputIndex,
    prediction: a.prediction,
    baseline: a.baseline,
    attributions: a.attributions,
    additivityError: a.additivityError,
    ...(a.standardError ? { standardError: a.standardError } : {}),
    budget: {
      samples: o.samples, evaluations, permutations: complete.length, deadlineMs: o.deadlineMs,
      elapsedMs: Math.round((performance.now() - started) * 1000) / 1000, truncated: complete.length < walks,
    },
    background: { rows: p.backgroundRows.length, source },
  };
}

/** The model's one FP32 input of shape [-1, M], or an InvalidArgumentError saying why it is not tabular. */
export function tabularInput(config: ModelConfig): { input: string; features: number } {
  const [first] = config.input;
  if (config.input.length !== 1 || !first || first.dataType !== 'FP32' || first.dims.length !== 1 || !(first.dims[0]! > 0) || config.maxBatchSize < 1) {
    const shape = config.input.map((t) => `${t.name} ${t.dataType} [${config.maxBatchSize > 0 ? '-1, ' : ''}${t.dims.join(', ')}]`).join('; ');
    throw new InvalidArgumentError(`explain supports tabular models (one FP32 input of shape [-1, M], batching on); '${config.name}' has ${shape}`);
  }
  return { input: first.name, features: first.dims[0]! };
}

function featureRow(inputs: InferInputs, name: string, features: number): Float32Array {
  const t = inputs?.[name] as { data?: unknown; dims?: readonly number[] } | undefined;
  const names = inputs && typeof inputs === 'object' ? Object.keys(inputs) : [];
  if (!t || names.length !== 1) throw new InvalidInputError(`explain: give exactly the input '${name}' (one row of ${features} features)`);
  const data = t.data;
  const ok = (ArrayBuffer.isView(data) || Array.isArray(data)) && (data as ArrayLike<unknown>).length === features;
  const dims = Array.isArray(t.dims) ? t.dims.join(',') : '';
  if (!ok || (dims !== `1,${features}` && dims !== String(features))) {
    throw new InvalidInputError(`explain: input '${name}' must be one row of ${features} numbers (dims [1, ${features}])`);
  }
  const row = Float32Array.from(data as ArrayLike<number>, Number);
  if (row.some((v) => !Number.isFinite(v))) throw new InvalidInputError(`explain: input '${name}' holds a value that is not a finite number`);
  return row;
}

const configBackground = new Map<string, Promise<number[][]>>();

async function backgroundRows(host: ExplainHost, config: ModelConfig, model: string, o: ResolvedExplainOptions, features: number) {
  const check = (rows: ArrayLike<number>[], where: string): ArrayLike<number>[] => {
    rows.forEach((r, i) => {
      if (!r || typeof r !== 'object' || r.length !== features || !Array.from(r).every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new InvalidArgumentError(`explain: ${where} row ${i} must be ${features} finite numbers`);
      }
    });
    return rows;
  };
  if (o.background) return { rows: check(o.background, 'background'), source: 'request' as const };
  const file = config.parameters[BACKGROUND_PARAMETER];
  if (file) {
    const full = path.resolve(host.repository.modelDir(model), file);
    let loading = configBackground.get(full);
    if (!loading) {
      loading = readFile(full, 'utf8').then((text) => JSON.parse(text) as number[][]);
      configBackground.set(full, loading);
      loading.catch(() => configBackground.delete(full));
    }
    let rows: number[][];
    try {
      rows = await loading;
    } catch (err) {
      throw new InvalidArgumentError(`explain: config parameter ${BACKGROUND_PARAMETER} of '${model}': cannot read ${file}: ${(err as Error).message}`);
    }
    if (!Array.isArray(rows) || rows.length === 0) throw new InvalidArgumentError(`explain: ${file} must hold a non-empty JSON array of rows`);
    return { rows: check(rows, file), source: 'config' as const };
  }
  return { rows: [new Float32Array(features)], source: 'zeros' as const };
}

/** Evaluates every row of the plan in chunks; rows not evaluated by the deadline stay NaN. */
async function evaluate(
  host: ExplainHost, model: string, config: ModelConfig, p: PermutationPlan, o: ResolvedExplainOptions, input: string, output: string, version: number,
): Promise<Float64Array> {
  const m = p.features;
  const chunk = Math.max(1, Math.min(o.chunkRows ?? DEFAULT_CHUNK_ROWS, config.maxBatchSize));
  const priority = o.priority ?? config.dynamicBatching?.priorityLevels ?? 0;
  const values = new Float64Array(p.rowCount).fill(NaN);
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per chunk
  const timer = setTimeout(() => abort.abort(), o.deadlineMs);
  let firstError: unknown;
  const jobs: Promise<void>[] = [];
  for (let start = 0; start < p.rowCount; start += chunk) {
    const n = Math.min(chunk, p.rowCount - start);
    const data = p.rows.subarray(start * m, (start + n) * m);
    const options: InferOptions = { priority, timeoutMs: o.deadlineMs, outputs: [output], signal: abort.signal, ...(version ? { version } : {}) };
    jobs.push(host.inferUnaudited(model, { [input]: { type: 'FP32', data, dims: [n, m] } }, options).then(
      (out) => {
        const t = out[output]!;
        const width = t.dims.slice(1).reduce((a, b) => a * b, 1);
        if (o.outputIndex >= width) throw new InvalidArgumentError(`explain: outputIndex ${o.outputIndex} is past output '${output}' (${width} per row)`);
        for (let i = 0; i < n; i++) values[start + i] = Number((t.data as ArrayLike<number>)[i * width + o.outputIndex]);
      },
    ).catch((err: unknown) => {
      const code = err instanceof ServalError ? err.code : '';
      if (code !== 'CANCELLED' && code !== 'TIMEOUT') firstError ??= err;
    }));
  }
  const all = Promise.all(jobs);
  await Promise.race([all, new Promise((r) => abort.signal.addEventListener('abort', r, { once: true }))]);
  clearTimeout(timer);
  abort.abort();
  if (firstError !== undefined) throw firstError;
  return values;
}

function walkDone(p: PermutationPlan, values: Float64Array, w: number): boolean {
  if (Number.isNaN(values[p.backgroundRows[p.backgroundOf[w]!]!]!)) return false;
  const start = walkStart(p, w);
  for (let r = start; r < start + Math.max(0, p.features - 1); r++) if (Number.isNaN(values[r]!)) return false;
  return true;
}
