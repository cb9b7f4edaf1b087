/**
 * The executor thread of one instance of a JavaScript-backend model: the same loop and protocol as the
 * onnxruntime executor (src/executor/executor-worker.ts) with the user's execute() where onnxruntime's run()
 * would be. Batches come from the model's native batcher; a throwing execute() or outputs of the wrong type or
 * shape fail only that batch; a thread that dies (process.exit, an uncaught error) fails only its in-flight
 * batch and the InstanceExecutor restarts it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAddon, type NativeBatch } from '../binding.js';
import { allocateTensorData, fromOrtType, toOrtType, type DataType } from '../dtypes.js';
import { UNCERTAINTY_BACKEND } from '../repository/parse-config.js';
import type { ModelConfig } from '../repository/model-config.js';
import { batches } from '../executor/batch-loop.js';
import { type ExecutorWorkerData, type FromWorker, type JsModelSpec, type ToWorker, type WarmupStep } from '../executor/protocol.js';
import type { JsBatch, JsModelModule, JsTensor } from './js-model-api.js';
import { checkJsOutputs } from './js-output-check.js';
import { BatchClock } from './execute-watchdog.js';

const data = workerData as ExecutorWorkerData;
const spec = data.jsModel as JsModelSpec;
const config: ModelConfig = spec.config;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const clock = spec.batchClock ? new BatchClock(spec.batchClock) : undefined;

function modelFile(): string {
  const file = data.modelFile;
  const mjs = file.replace(/\.js$/, '.mjs');
  if (!existsSync(file) && file.endsWith('.js') && existsSync(mjs)) return mjs;
  return file;
}

async function loadModule(): Promise<JsModelModule> {
  if (spec.backend === UNCERTAINTY_BACKEND) return await import('./uncertainty-model.js');
  const file = modelFile();
  if (!existsSync(file)) throw new Error(`no model file ${file} (a javascript model is <model>/<version>/model.js or model.mjs)`);
  const ns = await import(pathToFileURL(file).href) as Partial<JsModelModule> & { default?: Partial<JsModelModule> };
  const m = typeof ns.execute === 'function' ? ns : ns.default;
  if (!m || typeof m.execute !== 'function') throw new Error(`${file} must export a function execute(batch)`);
  return m as JsModelModule;
}

/** Runs one batch through execute() and checks its outputs; throws with the reason on any failure. */
async function runBatch(model: JsModelModule, batch: JsBatch, requested: boolean[]) {
  const result = await model.execute(batch);
  return checkJsOutputs(config, batch.size, requested, result);
}

function warmupBatch(step: WarmupStep): JsBatch {
  const inputs: Record<string, JsTensor> = {};
  for (const t of step.tensors) {
    const type = fromOrtType(t.ortType) as DataType;
    const count = t.dims.reduce((a, b) => a * b, 1);
    let values = allocateTensorData(type, count);
    if (t.file) {
      const bytes = readFileSync(t.file);
      values = type === 'BYTES' ? [bytes.toString('utf8')] : new (values.constructor as Uint8ArrayConstructor)(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as never;
    } else if (t.fill === 'random' && values instanceof Float32Array) {
      for (let i = 0; i < count; i++) values[i] = Math.random();
    }
    inputs[t.name] = { type, dims: t.dims, data: values };
  }
  const first = step.tensors[0]?.dims[0] ?? 1;
  return { size: config.maxBatchSize > 0 ? first : 1, inputs, requestedOutputs: config.output.map((o) => o.name) };
}

async function warmup(model: JsModelModule, steps: WarmupStep[]): Promise<void> {
  for (const step of steps) {
    try {
      for (let i = 0; i < Math.max(1, step.count); i++) await runBatch(model, warmupBatch(step), config.output.map(() => true));
    } catch (err) {
      if (step.required) throw err;
      post({ kind: 'warmup-skipped', message: (err as Error).message ?? String(err) });
    }
  }
}

function toJsBatch(batch: NativeBatch, requested: boolean[]): JsBatch {
  const inputs: Record<string, JsTensor> = {};
  config.input.forEach((t, i) => {
    const b = batch.inputs[i]!;
    inputs[t.name] = { type: t.dataType, dims: b.dims, data: b.data as JsTensor['data'] };
  });
  return { size: batch.samples, inputs, requestedOutputs: config.output.filter((_, i) => requested[i]).map((o) => o.name) };
}

async function serve(model: JsModelModule, start: Extract<ToWorker, { kind: 'start' }>): Promise<void> {
  const executor = new (loadAddon().NativeExecutor)(start.token);
  for await (const batch of batches(executor, { crashFlag: data.crashFlag })) {
    const requested = config.output.map((_, i) => Math.floor(batch.outputMask / 2 ** i) % 2 === 1);
    clock?.markStarted();
    try {
      const outputs = await runBatch(model, toJsBatch(batch, requested), requested);
      executor.complete(batch.id, outputs);
    } catch (err) {
      executor.fail(batch.id, `javascript model '${config.name}': ${(err as Error)?.message ?? String(err)}`);
    }
    clock?.markIdle();
  }
  await model.finalize?.();
  post({ kind: 'stopped' });
}

async function main(): Promise<void> {
  let model: JsModelModule;
  try {
    model = await loadModule();
    await model.initialize?.({ config, versionDir: dirname(data.modelFile) });
  } catch (err) {
    post({ kind: 'load-failed', message: `javascript model '${config.name}': ${(err as Error)?.message ?? String(err)}` });
    return;
  }
  const batched = (dims: number[]) => (config.maxBatchSize > 0 ? [-1, ...dims] : dims);
  const tensors = (list: ModelConfig['input']) => list.map((t) => ({ name: t.name, type: toOrtType(t.dataType), shape: batched(t.dims) }));
  post({ kind: 'loaded', info: { inputs: tensors(config.input), outputs: tensors(config.output) }, provider: { executionProvider: 'cpu' } });
  port.on('message', (msg: ToWorker) => {
    if (msg.kind === 'calibrate') {
      post({ kind: 'load-failed', message: 'emulated devices (device_latency_model, instance_slowdown) are not supported for JavaScript models' });
    }
    if (msg.kind === 'start') startServing(model, msg).catch((err: Error) => post({ kind: 'load-failed', message: err.message }));
  });
}

async function startServing(model: JsModelModule, msg: Extract<ToWorker, { kind: 'start' }>): Promise<void> {
  try {
    await warmup(model, msg.warmup);
  } catch (err) {
    post({ kind: 'warmup-failed', message: (err as Error)?.message ?? String(err) });
    return;
  }
  post({ kind: 'serving' });
  await serve(model, msg);
}

void main();
