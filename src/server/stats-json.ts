/**
 * Triton's statistics extension JSON (`GET v2/models[/{m}[/versions/{v}]]/stats`) built from
 * `Runtime.stats()`. serval measures the request, queue and compute phases; Triton's input and output
 * phases are reported inside compute (compute_input/compute_output stay zero).
 */
import type { HistogramSnapshot, ModelStats } from '../api-types.js';

interface DurationStat {
  count: number;
  ns: number;
}

export interface TritonModelStats {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss', DurationStat>;
  batch_stats: { batch_size: number; compute_input: DurationStat; compute_infer: DurationStat; compute_output: DurationStat }[];
  memory_usage: never[];
  /** serval's addition, only for models that emulate devices (device_latency_model / instance_slowdown). */
  emulated_devices?: EmulatedDeviceJson[];
  /** serval's addition, only for models with KIND_GPU instances: where each instance runs, and why if not on the GPU. */
  execution_providers?: { instance: number; kind: string; execution_provider: string; fallback_reason?: string }[];
  /** serval's addition, only for drift-monitored models: each feature's PSI and KS against its reference (src/drift/). */
  drift?: ModelStats['drift'];
}

export interface EmulatedDeviceJson {
  instance: number;
  source: 'declared' | 'calibrated';
  slowdown: number;
  /** The curve the instance holds batches for (slowdown applied). */
  curve: { batch_size: number; ms: number }[];
  noise_cv: number;
  seed: number;
  overruns: number;
  batches: number;
}

const ZERO: DurationStat = { count: 0, ns: 0 };
const duration = (h: HistogramSnapshot): DurationStat => ({ count: h.count, ns: Math.round(h.sum * 1e9) });

/**
 * @param lastInference milliseconds since the epoch of the version's last inference (0 if none).
 */
export function tritonModelStats(m: ModelStats, lastInference: number): TritonModelStats {
  const failures = Object.values(m.failure).reduce((a, b) => a + b, 0);
  return {
    name: m.name,
    version: String(m.version),
    last_inference: lastInference,
    inference_count: m.inferenceCount,
    execution_count: m.executionCount,
    inference_stats: {
      success: { count: m.success, ns: Math.round(m.requestSeconds.sum * 1e9) },
      fail: { count: failures, ns: 0 },
      queue: duration(m.queueSeconds),
      compute_input: ZERO,
      compute_infer: duration(m.computeSeconds),
      compute_output: ZERO,
      cache_hit: m.cache ? { count: m.cache.hits, ns: Math.round(m.cache.hitSeconds * 1e9) } : ZERO,
      cache_miss: m.cache ? { count: m.cache.misses, ns: Math.round(m.cache.missSeconds * 1e9) } : ZERO,
    },
    batch_stats: batchStats(m.batchSize),
    memory_usage: [],
    ...emulatedDevices(m),
    ...executionProviders(m),
    ...(m.drift ? { drift: m.drift } : {}),
  };
}

function executionProviders(m: ModelStats): Pick<TritonModelStats, 'execution_providers'> {
  if (!m.instances.some((i) => i.kind === 'KIND_GPU')) return {};
  return {
    execution_providers: m.instances.map((i) => ({
      instance: i.index, kind: i.kind, execution_provider: i.executionProvider ?? 'cpu',
      ...(i.fallbackReason ? { fallback_reason: i.fallbackReason } : {}),
    })),
  };
}

function emulatedDevices(m: ModelStats): { emulated_devices?: EmulatedDeviceJson[] } {
  const devices = m.instances.flatMap((i) => {
    const d = i.emulatedDevice;
    return d ? [{
      instance: i.index, source: d.source, slowdown: d.slowdown, curve: d.curve.map((p) => ({ batch_size: p.batchSize, ms: p.ms })),
      noise_cv: d.noiseCv, seed: d.seed, overruns: d.overruns, batches: d.batches,
    }] : [];
  });
  return devices.length > 0 ? { emulated_devices: devices } : {};
}

/**
 * One entry per batch-size bucket that saw executions, labelled with the bucket's upper bound (exact
 * when the runtime keeps one bucket per size). Per-size compute time is not tracked: ns is 0.
 */
function batchStats(h: HistogramSnapshot): TritonModelStats['batch_stats'] {
  const out: TritonModelStats['batch_stats'] = [];
  h.counts.forEach((count, i) => {
    const bound = h.bounds[i]!;
    if (count > 0 && Number.isFinite(bound)) {
      out.push({ batch_size: bound, compute_input: ZERO, compute_infer: { count, ns: 0 }, compute_output: ZERO });
    }
  });
  return out;
}
