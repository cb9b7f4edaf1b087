/**
 * Measures each model instance's batch-latency curve on this machine, through serval itself: requests of
 * b rows are sent one at a time (so each forms a batch of exactly b) with round-robin placement (so the
 * instances take turns), and each execution is read from the instance's own busy-time counter. Every size
 * is run a few times first, unmeasured (cold caches and lazily initialised kernels inflate the first runs).
 * Per size: the 10%-trimmed mean and the coefficient of variation of the trimmed sample. The per-request
 * overhead outside queue and execution is the median of end-to-end latency minus both.
 */
import { dataTypeInfo, type DataType, type TensorData } from '../dtypes.js';
import type { InferInputs, ModelMetadata } from '../api-types.js';
import type { NativeModelStats } from '../binding.js';
import type { InstanceProfile, ModelProfile } from './profile-file.js';

/** The part of Runtime the profiler uses. */
export interface ProfilableRuntime {
  metadata(model: string): ModelMetadata;
  config(model: string): { maxBatchSize: number; dynamicBatching?: { preferredBatchSize: number[]; maxQueueDelayMicroseconds: number } };
  infer(model: string, inputs: InferInputs): Promise<unknown>;
  profileOf(model: string): NativeModelStats | undefined;
}

export interface ProfileOptions {
  /** Executions measured per instance and batch size. @default 30 */
  samples?: number;
  /** Batch sizes to measure. @default powers of two up to max_batch_size, and max_batch_size */
  batchSizes?: number[];
  /** Called after each batch size. */
  onProgress?: (done: number, total: number) => void;
}

export function defaultBatchSizes(maxBatchSize: number): number[] {
  const out: number[] = [];
  for (let b = 1; b < maxBatchSize; b *= 2) out.push(b);
  out.push(Math.max(1, maxBatchSize));
  return out;
}

function tensor(type: DataType, dims: number[]): { type: DataType; dims: number[]; data: TensorData } {
  const count = dims.reduce((a, b) => a * b, 1);
  const info = dataTypeInfo(type);
  if (type === 'BYTES') return { type, dims, data: new Array<string>(count).fill('serval') };
  const Ctor = (globalThis as unknown as Record<string, new (n: number) => TensorData>)[info.arrayType]!;
  const data = new Ctor(count);
  if (data instanceof Float32Array || data instanceof Float64Array) for (let i = 0; i < count; i++) data[i] = Math.random();
  return { type, dims, data };
}

function inputsFor(meta: ModelMetadata, batch: number, batching: boolean): InferInputs {
  const inputs: InferInputs = {};
  for (const t of meta.inputs) {
    const dims = t.shape.map((d, i) => (batching && i === 0 ? batch : d < 0 ? 1 : d));
    inputs[t.name] = tensor(t.datatype, dims);
  }
  return inputs;
}

const WARMUP_RUNS = 3;

/** Mean and coefficient of variation of `values` without their lowest and highest 10%. */
function trimmedStat(values: number[]): { mean: number; cv: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.1);
  const kept = sorted.slice(cut, sorted.length - cut);
  const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
  const variance = kept.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, kept.length - 1);
  return { mean, cv: mean > 0 ? Math.sqrt(variance) / mean : 0 };
}

export async function profileModel(rt: ProfilableRuntime, model: string, options: ProfileOptions = {}): Promise<ModelProfile> {
  const config = rt.config(model);
  const meta = rt.metadata(model);
  const batching = config.maxBatchSize > 0;
  const sizes = (options.batchSizes ?? defaultBatchSizes(config.maxBatchSize)).filter((b) => b >= 1 && b <= Math.max(1, config.maxBatchSize));
  const samples = options.samples ?? 30;
  const first = rt.profileOf(model);
  if (!first) throw new Error(`model '${model}' is not loaded`);
  const n = first.instances.length;
  const perInstance: number[][][] = Array.from({ length: n }, () => sizes.map(() => []));
  const overhead: number[] = [];
  for (const b of sizes) {
    const inputs = inputsFor(meta, b, batching);
    for (let k = 0; k < WARMUP_RUNS * n; k++) await rt.infer(model, inputs);
  }
  for (let s = 0; s < sizes.length; s++) {
    const inputs = inputsFor(meta, sizes[s]!, batching);
    for (let k = 0; k < samples * n; k++) {
      const before = rt.profileOf(model)!;
      const t0 = performance.now();
      await rt.infer(model, inputs);
      const e2eMs = performance.now() - t0;
      const after = rt.profileOf(model)!;
      const ran = after.instances.findIndex((inst, i) => inst.executions - before.instances[i]!.executions === 1);
      if (ran < 0) continue;  // another request interfered: skip the sample
      const computeS = after.instances[ran]!.busySeconds - before.instances[ran]!.busySeconds;
      const queueS = after.queueSeconds.sum - before.queueSeconds.sum;
      perInstance[ran]![s]!.push(computeS * 1e6);
      overhead.push(Math.max(0, e2eMs * 1e3 - (computeS + queueS) * 1e6));
    }
    options.onProgress?.(s + 1, sizes.length);
  }
  const instances: InstanceProfile[] = perInstance.map((bySize) => {
    const kept = sizes.map((b, s) => ({ b, values: bySize[s]! })).filter((x) => x.values.length > 0);
    return {
      batchSizes: kept.map((x) => x.b),
      meanUs: kept.map((x) => Number(trimmedStat(x.values).mean.toFixed(2))),
      cv: kept.map((x) => Number(trimmedStat(x.values).cv.toFixed(4))),
      samples: kept.map((x) => x.values.length),
    };
  });
  overhead.sort((a, b) => a - b);
  return {
    version: 1,
    maxBatchSize: config.maxBatchSize,
    preferredBatchSizes: config.dynamicBatching?.preferredBatchSize ?? [],
    maxQueueDelayUs: config.dynamicBatching?.maxQueueDelayMicroseconds ?? 0,
    overheadUs: Number((overhead[Math.floor(overhead.length / 2)] ?? 0).toFixed(2)),
    instances,
  };
}
