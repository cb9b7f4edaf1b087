/**
 * Temporary repositories for pipeline tests: ONNX fixture models (temp-repo.ts), JavaScript-backend models from
 * source text, and ensembles (config only, with the empty version directory Triton's layout wants).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import type { Runtime } from '../../src/index.js';
import { join } from 'node:path';
import { makeRepo, type TempModel } from './temp-repo.js';

export interface JsModel {
  name: string;
  config: string;
  /** model.mjs text per version (default: version 1). */
  source: string | Record<number, string>;
}

export interface PipelineRepo {
  root: string;
  cleanup: () => void;
  /** Writes (or rewrites) a JavaScript model. */
  writeJs(m: JsModel): void;
  /** Writes (or rewrites) an ensemble's config.pbtxt and its version directory. */
  writeEnsemble(name: string, config: string): void;
}

export function pipelineRepo(onnx: TempModel[], js: JsModel[] = [], ensembles: Record<string, string> = {}): PipelineRepo {
  const repo = makeRepo(onnx);
  const writeJs = (m: JsModel) => {
    const sources = typeof m.source === 'string' ? { 1: m.source } : m.source;
    for (const [v, text] of Object.entries(sources)) {
      mkdirSync(join(repo.root, m.name, v), { recursive: true });
      writeFileSync(join(repo.root, m.name, v, 'model.mjs'), text);
    }
    writeFileSync(join(repo.root, m.name, 'config.pbtxt'), m.config.replaceAll('{name}', m.name));
  };
  const writeEnsemble = (name: string, config: string) => {
    mkdirSync(join(repo.root, name, '1'), { recursive: true });
    writeFileSync(join(repo.root, name, 'config.pbtxt'), config.replaceAll('{name}', name));
  };
  js.forEach(writeJs);
  for (const [name, config] of Object.entries(ensembles)) writeEnsemble(name, config);
  return { ...repo, writeJs, writeEnsemble };
}

/** A JavaScript model config: FP32 [4] in (`x`), FP32 [4] out (`y`). */
export function jsConfig(opts: { maxBatch?: number; batching?: string; params?: Record<string, string> } = {}): string {
  return [
    'name: "{name}"',
    'backend: "javascript"',
    `max_batch_size: ${opts.maxBatch ?? 8}`,
    'input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]',
    'output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]',
    opts.batching ?? 'dynamic_batching { }',
    ...Object.entries(opts.params ?? {}).map(([k, v]) => `parameters { key: "${k}" value { string_value: "${v}" } }`),
  ].join('\n');
}

/**
 * A JavaScript model y = x * factor (parameter `factor`, default 1) whose first input value selects a failure
 * for the whole batch: -1 throws, -2 returns a wrong shape, -3 the wrong dtype, -4 exits the thread, and a value
 * >= 1000 sleeps (value - 1000) ms first.
 */
export const PROBE_MODEL = `
let factor = 1;
export function initialize({ config }) { factor = Number(config.parameters.factor ?? 1); }
export function execute(batch) {
  const x = batch.inputs.x.data;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * factor;
  for (let r = 0; r < batch.size; r++) {
    const mark = x[r * 4];
    if (mark === -1) throw new Error('the probe model was asked to throw');
    if (mark === -2) return { y: { data: y.subarray(0, 4), dims: [1, 4] } };
    if (mark === -3) return { y: { data: new Float64Array(x.length), dims: [batch.size, 4] } };
    if (mark === -4) process.exit(3);
    if (mark >= 1000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, mark - 1000);
  }
  return { y: { data: y, dims: [batch.size, 4] } };
}
`;

/** An ensemble config over FP32 [4] tensors x → y with the given steps text. */
export function ensembleConfig(steps: string[], extra = '', maxBatch = 8): string {
  return [
    'name: "{name}"',
    'platform: "ensemble"',
    `max_batch_size: ${maxBatch}`,
    'input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]',
    'output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]',
    extra,
    `ensemble_scheduling { step [ ${steps.join(', ')} ] }`,
  ].join('\n');
}

export const mapStep = (model: string, from: string, to: string, version = -1) =>
  `{ model_name: "${model}" model_version: ${version} input_map { key: "x" value: "${from}" } output_map { key: "y" value: "${to}" } }`;

/** The runtime and repository a test opened, closed and removed after each test of the calling file. */
export function pipelineSession(): { rt: Runtime | undefined; repo: PipelineRepo | undefined } {
  const session: { rt: Runtime | undefined; repo: PipelineRepo | undefined } = { rt: undefined, repo: undefined };
  afterEach(async () => {
    await session.rt?.close();
    session.repo?.cleanup();
    session.rt = undefined;
    session.repo = undefined;
  });
  return session;
}
