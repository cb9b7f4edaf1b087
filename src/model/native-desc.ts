/** Builds the native model description (NativeModelDesc) from a complete ModelConfig. */
import { dataTypeInfo } from '../dtypes.js';
import type { NativeModelDesc, NativeQueuePolicy } from '../binding.js';
import { InvalidArgumentError } from '../errors.js';
import type { ModelConfig, QueuePolicyConfig } from '../repository/model-config.js';

function queuePolicy(p: QueuePolicyConfig): NativeQueuePolicy {
  return {
    delayOnTimeout: p.timeoutAction === 'DELAY',
    defaultTimeoutUs: p.defaultTimeoutMicroseconds,
    allowTimeoutOverride: p.allowTimeoutOverride,
    maxQueueSize: p.maxQueueSize,
  };
}

/** One entry per instance: instance_group counts expanded (a GPU group gets `count` per listed GPU). */
export function expandInstances(config: ModelConfig): NativeModelDesc['instances'] {
  const out: NativeModelDesc['instances'] = [];
  for (const g of config.instanceGroup) {
    if (g.kind === 'KIND_GPU') {
      const gpus = g.gpus.length ? g.gpus : [0];
      for (const device of gpus) for (let i = 0; i < g.count; i++) out.push({ kind: 'GPU', device });
    } else {
      for (let i = 0; i < g.count; i++) out.push({ kind: 'CPU', device: 0 });
    }
  }
  if (out.length === 0) out.push({ kind: 'CPU', device: 0 });
  return out;
}

/**
 * Why the addon cannot give a KIND_GPU instance on `device` a CUDA stream and pinned staging memory, or
 * undefined when it can. Such an instance gets a CPU slot natively; its execution provider is chosen apart.
 */
export function gpuSlotProblem(device: number, build: { cuda: boolean; cudaDevices: number }): string | undefined {
  if (!build.cuda) return 'serval was built without CUDA (no CUDA stream or pinned staging memory)';
  if (device >= build.cudaDevices) return `GPU ${device} is not visible to serval (${build.cudaDevices} CUDA device(s); no CUDA stream or pinned staging memory)`;
  return undefined;
}

/** config.pbtxt parameter `slo_ms`: the model's latency objective, handed to the placement policy. */
function sloUs(config: ModelConfig): number {
  const ms = Number(config.parameters['slo_ms'] ?? 0);
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms * 1000) : 0;
}

/**
 * config.pbtxt parameters of admission control (serval extensions): `admission_policy` (overrides the
 * runtime's default), `codel_target_ms`, `codel_interval_ms`, `concurrency_initial_limit`. A bad value is an
 * InvalidArgumentError naming the model and the parameter.
 */
function admissionFields(config: ModelConfig, fallback: string, known: readonly string[]): Pick<NativeModelDesc, 'admission' | 'codelTargetUs' | 'codelIntervalUs' | 'concurrencyInitialLimit'> {
  const p = config.parameters;
  const admission = p['admission_policy']?.trim() || fallback;
  if (!known.includes(admission)) {
    throw new InvalidArgumentError(`model '${config.name}': parameter admission_policy '${admission}' is not one of ${known.join(', ')}`);
  }
  const positive = (key: string, integer: boolean): number => {
    const raw = p[key];
    if (raw === undefined) return 0;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isSafeInteger(v))) {
      throw new InvalidArgumentError(`model '${config.name}': parameter ${key} must be a positive ${integer ? 'integer' : 'number'}, got '${raw}'`);
    }
    return v;
  };
  return {
    admission,
    codelTargetUs: Math.round(positive('codel_target_ms', false) * 1000),
    codelIntervalUs: Math.round(positive('codel_interval_ms', false) * 1000),
    concurrencyInitialLimit: positive('concurrency_initial_limit', true),
  };
}

export interface SchedulingChoice {
  /** Placement policy name. */
  policy: string;
  /** The runtime's default admission policy, and every name the addon knows. */
  admission: string;
  admissionPolicies: readonly string[];
}

export function nativeModelDesc(config: ModelConfig, version: number, scheduling: SchedulingChoice): NativeModelDesc {
  const db = config.dynamicBatching;
  const levels = Math.max(1, db?.priorityLevels ?? 0);
  const policies: NativeQueuePolicy[] = [];
  for (let level = 1; level <= levels; level++) {
    const p = db?.priorityQueuePolicy[level] ?? db?.defaultQueuePolicy;
    policies.push(p ? queuePolicy(p) : { delayOnTimeout: false, defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0 });
  }
  const tensor = (t: ModelConfig['input'][number]) => ({ name: t.name, dtype: dataTypeInfo(t.dataType).nativeCode, dims: t.dims });
  return {
    name: config.name,
    version,
    maxBatchSize: config.maxBatchSize,
    inputs: config.input.map(tensor),
    outputs: config.output.map(tensor),
    preferredBatchSizes: db?.preferredBatchSize ?? [],
    maxQueueDelayUs: db?.maxQueueDelayMicroseconds ?? 0,
    idleSpinUs: idleSpinMicroseconds(config),
    priorityLevels: levels,
    defaultPriorityLevel: db && db.defaultPriorityLevel > 0 ? db.defaultPriorityLevel : Math.ceil(levels / 2),
    queuePolicies: policies,
    instances: expandInstances(config),
    policy: scheduling.policy,
    sloUs: sloUs(config),
    ...admissionFields(config, scheduling.admission, scheduling.admissionPolicies),
  };
}

const DEFAULT_IDLE_SPIN_US = 30;

/**
 * config.pbtxt parameter `executor_idle_spin_microseconds` (serval extension): how long an idle executor
 * polls for work before it sleeps. Env SERVAL_EXECUTOR_IDLE_SPIN_US sets the default (30 us: on the 2-core
 * VM this cut c=1 p50 from 40 to 35 us and raised c=1 throughput ~30%; 100 us starved the JS thread).
 */
export function idleSpinMicroseconds(config: ModelConfig): number {
  const raw = config.parameters['executor_idle_spin_microseconds'] ?? process.env['SERVAL_EXECUTOR_IDLE_SPIN_US'] ?? String(DEFAULT_IDLE_SPIN_US);
  const v = Number(raw);
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 10_000) : 0;
}
