/**
 * The executor thread of one model instance. Loads its own onnxruntime session, then loops: take the
 * next batch from the native batcher (a blocking call on this thread, never the main one), run it,
 * hand the outputs back. The batch's typed-array inputs are views of the batcher's staging buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadAddon } from '../binding.js';
import { dataTypeInfo, fromOrtType } from '../dtypes.js';
import { modelInfoFromSession } from '../repository/autocomplete.js';
import { EmulatedDevice } from './emulated-device.js';
import { availableProviders } from './installed-providers.js';
import { planProviders, providerStatus, type ProviderName, type ProviderStatus, type SkippedProvider } from './execution-providers.js';
import { batches } from './batch-loop.js';
import { type ExecutorWorkerData, type FromWorker, type ToWorker, type WarmupStep, type WarmupTensor } from './protocol.js';

const data = workerData as ExecutorWorkerData;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);


type TypedArrayCtor = new (n: number | ArrayBufferLike) => ArrayBufferView;

function warmupTensor(t: WarmupTensor): ort.Tensor {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.ortType === 'string') return new ort.Tensor('string', new Array<string>(count).fill(''), t.dims);
  const type = fromOrtType(t.ortType);
  const Ctor = type && (dataTypeInfo(type).array as TypedArrayCtor | undefined);
  if (!Ctor) throw new Error(`warmup: unsupported tensor type ${t.ortType}`);
  let view: ArrayBufferView;
  if (t.file) {
    const bytes = readFileSync(t.file);
    view = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } else {
    view = new Ctor(count);
    if (t.fill === 'random' && view instanceof Float32Array) for (let i = 0; i < count; i++) view[i] = Math.random();
  }
  return new ort.Tensor(t.ortType as 'float32', view as Float32Array, t.dims);
}

function stepFeeds(step: WarmupStep): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of step.tensors) feeds[t.name] = warmupTensor(t);
  return feeds;
}

async function warmup(session: ort.InferenceSession, steps: WarmupStep[]): Promise<void> {
  for (const step of steps) {
    try {
      const feeds = stepFeeds(step);
      for (let i = 0; i < Math.max(1, step.count); i++) await session.run(feeds);
    } catch (err) {
      if (step.required) throw err;
      post({ kind: 'warmup-skipped', message: (err as Error).message ?? String(err) });
    }
  }
}

/** The fastest of up to `maxRuns` runs (at least two: the first also warms up) of each step, bounded per step. */
async function calibrate(session: ort.InferenceSession, msg: Extract<ToWorker, { kind: 'calibrate' }>): Promise<number[]> {
  const out: number[] = [];
  for (const step of msg.steps) {
    const feeds = stepFeeds(step);
    const until = performance.now() + msg.budgetMs;
    let fastest = Infinity;
    for (let k = 0; k < msg.maxRuns && (k < 2 || performance.now() < until); k++) {
      const t0 = performance.now();
      await session.run(feeds);
      fastest = Math.min(fastest, performance.now() - t0);
    }
    out.push(fastest);
  }
  return out;
}

async function serve(session: ort.InferenceSession, start: Extract<ToWorker, { kind: 'start' }>): Promise<void> {
  const addon = loadAddon();
  const executor = new addon.NativeExecutor(start.token);
  const { inputs, outputs } = start;
  const device = start.device ? new EmulatedDevice(start.device) : undefined;
  for await (const batch of batches(executor, { crashFlag: data.crashFlag })) {
    const t0 = performance.now();
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (let i = 0; i < inputs.length; i++) {
        const spec = inputs[i]!;
        const t = batch.inputs[i]!;
        feeds[spec.name] = new ort.Tensor(spec.ortType as 'float32', t.data as Float32Array, t.dims);
      }
      const fetches = outputs.filter((_, i) => Math.floor(batch.outputMask / 2 ** i) % 2 === 1);
      const result = await session.run(feeds, fetches);
      if (device) device.holdUntil(t0 + device.nextBatchMs(batch.samples));
      const out = outputs.map((name) => {
        const r = result[name];
        return r ? { data: r.data, dims: r.dims } : undefined;
      });
      executor.complete(batch.id, out);
    } catch (err) {
      executor.fail(batch.id, `onnxruntime: ${(err as Error).message ?? String(err)}`);
    }
  }
  post({ kind: 'stopped' });
}

/**
 * Creates the session on the first provider of the instance's plan that works: a provider that is
 * installed but fails (no driver, no such device) is skipped with onnxruntime's message. CPU comes last;
 * its failure (a bad model file) fails the load.
 */
async function createSession(): Promise<{ session: ort.InferenceSession; provider: ProviderStatus }> {
  const plan = planProviders({
    kind: data.instanceKind, device: data.device, gpuAccelerators: data.gpuAccelerators,
    available: data.instanceKind === 'GPU' ? availableProviders() : new Set<ProviderName>(['cpu']),
  });
  const skipped: SkippedProvider[] = [...plan.skipped];
  for (const candidate of plan.candidates) {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: data.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: [candidate.name === 'cpu' ? 'cpu' : { name: candidate.name, deviceId: candidate.deviceId }],
    };
    try {
      const session = await ort.InferenceSession.create(data.modelFile, options);
      return { session, provider: providerStatus(candidate.name, skipped) };
    } catch (err) {
      if (candidate.name === 'cpu') throw err;
      skipped.push({ name: candidate.name, reason: `device ${candidate.deviceId}: ${(err as Error).message ?? String(err)}` });
    }
  }
  throw new Error('no execution provider');  // unreachable: the plan ends with CPU
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  let provider: ProviderStatus;
  try {
    ({ session, provider } = await createSession());
  } catch (err) {
    post({ kind: 'load-failed', message: (err as Error).message ?? String(err) });
    return;
  }
  post({ kind: 'loaded', info: modelInfoFromSession(session as never), provider });
  port.on('message', (msg: ToWorker) => {
    if (msg.kind === 'calibrate') {
      calibrate(session, msg).then(
        (ms) => post({ kind: 'calibrated', ms }),
        (err: Error) => post({ kind: 'load-failed', message: `calibrating the emulated device: ${err.message ?? String(err)}` }),
      );
      return;
    }
    if (msg.kind === 'start') {
      warmup(session, msg.warmup).then(
        () => {
          post({ kind: 'serving' });
          return serve(session, msg);
        },
        (err: Error) => post({ kind: 'warmup-failed', message: err.message ?? String(err) }),
      ).catch((err: Error) => post({ kind: 'load-failed', message: err.message }));
    }
  });
}

void main();
