/**
 * config.pbtxt text → `ModelConfig`: syntax (pbtxt.ts), schema (config-schema.ts + schema-decoder.ts), then
 * defaults and the semantic rules of Triton that hold without looking at the model. Inputs and outputs may be
 * left out: `autocomplete.ts` fills them (and `max_batch_size`) from the ONNX model.
 */
import { fromTritonType } from '../dtypes.js';
import type {
  DynamicBatchingConfig, EnsembleSchedulingConfig, InstanceGroupConfig, ModelConfig, ModelWarmupConfig, OptimizationConfig, QueuePolicyConfig, TensorConfig,
  VersionPolicyConfig, WarmupInputConfig,
} from './model-config.js';
import { defaultQueuePolicy } from './model-config.js';
import { GPU_ACCELERATORS, MODEL_CONFIG_SCHEMA } from './config-schema.js';
import { parsePbtxt } from './pbtxt.js';
import { configError, decodeMessage, type DecodedMessage } from './schema-decoder.js';
import { checkBatchLimits } from './validate-config.js';
import { checkEnsembleGraph } from '../ensemble/ensemble-graph.js';

export const ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNX_BACKEND = 'onnxruntime';
export const DEFAULT_MODEL_FILENAME = 'model.onnx';
/** Triton's platform of serialized TensorRT engines: accepted, and UNAVAILABLE with the reason at load. */
export const TENSORRT_PLATFORM = 'tensorrt_plan';
export const TENSORRT_BACKEND = 'tensorrt';
export const TENSORRT_MODEL_FILENAME = 'model.plan';
/** Triton's ensemble platform: steps run other models (src/ensemble/). No model file, no instances. */
export const ENSEMBLE_PLATFORM = 'ensemble';
/** serval's JavaScript backend: `<model>/<version>/model.js` (or `.mjs`) run in the executor threads. */
export const JAVASCRIPT_BACKEND = 'javascript';
export const JAVASCRIPT_MODEL_FILENAME = 'model.js';
/** serval's built-in reduction over N member outputs (mean, std, vote share, entropy): a JavaScript backend with no user file. */
export const UNCERTAINTY_BACKEND = 'uncertainty';
/** Backends whose code runs in a JavaScript executor thread instead of an onnxruntime session. */
export const JS_BACKENDS: readonly string[] = [JAVASCRIPT_BACKEND, UNCERTAINTY_BACKEND];

/** Where a config came from, kept so that later stages (auto-complete) can name file, line and field. */
export interface ConfigSource {
  /** The config.pbtxt path as it appears in errors. */
  file: string;
  /** Line of every field path present in the file: `max_batch_size`, `input[0]`, `input[0].dims`, `parameters["k"]`. */
  lines: ReadonlyMap<string, number>;
}

export interface ParsedModelConfig {
  /** Complete except for what only the model can tell: `input`/`output` may be empty, `max_batch_size` may be unset. */
  config: ModelConfig;
  source: ConfigSource;
}

export interface ParseConfigOptions {
  /** Names the file in errors. @default 'config.pbtxt' */
  file?: string;
  /** The model's directory name: the config's `name` must equal it, and defaults to it. */
  modelName?: string;
  /** What `KIND_AUTO` (and an instance group without `kind`) resolves to. @default 'KIND_CPU' */
  autoKind?: 'KIND_CPU' | 'KIND_GPU';
}

/** Parses and validates config.pbtxt text. Throws `InvalidConfigError` naming file, line and field. */
export function parseModelConfig(text: string, options: ParseConfigOptions = {}): ParsedModelConfig {
  const file = options.file ?? 'config.pbtxt';
  const lines = new Map<string, number>();
  const root = decodeMessage(parsePbtxt(text, file), MODEL_CONFIG_SCHEMA, file, lines);
  const name = readName(root, options.modelName);
  const maxBatchSize = root.scalar<number>('max_batch_size') ?? 0;
  if (maxBatchSize < 0) throw root.fieldError('max_batch_size', `must be >= 0, got ${maxBatchSize}`);

  const { platform, backend } = readPlatform(root);
  const optimization = readOptimization(root.message('optimization'));

  const dynamicBatchingMsg = root.message('dynamic_batching');
  const config: ModelConfig = {
    name,
    platform,
    backend,
    maxBatchSize,
    input: readTensors(root, 'input'),
    output: readTensors(root, 'output'),
    ...(dynamicBatchingMsg ? { dynamicBatching: readDynamicBatching(dynamicBatchingMsg) } : {}),
    instanceGroup: readInstanceGroups(root, name, options.autoKind ?? 'KIND_CPU'),
    versionPolicy: readVersionPolicy(root.message('version_policy')),
    parameters: Object.fromEntries(root.entries<string>('parameters')
      .map(({ key, value }) => [key, value.scalar<string>('string_value') ?? ''])),
    modelWarmup: root.messages('model_warmup').map(readWarmup),
    defaultModelFilename: readFileName(root, 'default_model_filename') ?? defaultFileName(platform, backend),
    ...(optimization ? { optimization } : {}),
    ...readPipelineFields(root, platform, backend),
  };
  const source: ConfigSource = { file, lines };
  if (config.ensembleScheduling) checkEnsembleGraph(config, source);
  // Without max_batch_size the limit is auto-completed from the model, and checked then.
  if (lines.has('max_batch_size')) checkBatchLimits(config, source);
  return { config, source };
}

function defaultFileName(platform: string, backend: string): string {
  if (platform === TENSORRT_PLATFORM) return TENSORRT_MODEL_FILENAME;
  if (backend === JAVASCRIPT_BACKEND) return JAVASCRIPT_MODEL_FILENAME;
  return DEFAULT_MODEL_FILENAME;
}

/**
 * `ensemble_scheduling` (only with platform "ensemble", which needs it), `response_cache`, and what ensembles and
 * JavaScript models must declare because there is no model file to auto-complete them from.
 */
function readPipelineFields(root: DecodedMessage, platform: string, backend: string): Pick<ModelConfig, 'ensembleScheduling' | 'responseCache'> {
  const scheduling = root.message('ensemble_scheduling');
  const ensemble = platform === ENSEMBLE_PLATFORM;
  if (scheduling && !ensemble) throw root.fieldError('ensemble_scheduling', `needs platform "${ENSEMBLE_PLATFORM}"`);
  if (ensemble && !scheduling) throw root.fieldError('platform', `is "${ENSEMBLE_PLATFORM}" but the config has no ensemble_scheduling`);
  if (ensemble || JS_BACKENDS.includes(backend)) {
    const what = ensemble ? `platform "${ENSEMBLE_PLATFORM}"` : `backend "${backend}"`;
    for (const field of ['input', 'output']) {
      if (!root.has(field)) throw root.fieldError(field, `is required for ${what} (there is no model file to read it from)`);
    }
    if (!root.has('max_batch_size')) throw root.fieldError('max_batch_size', `is required for ${what}`);
  }
  if (JS_BACKENDS.includes(backend)) {
    const gpu = root.messages('instance_group').find((g) => g.scalar<string>('kind') === 'KIND_GPU' || g.has('gpus'));
    if (gpu) throw gpu.fieldError(gpu.has('gpus') ? 'gpus' : 'kind', `does not apply to backend "${backend}": JavaScript models run on CPU threads`);
  }
  if (ensemble) {
    for (const field of ['instance_group', 'dynamic_batching', 'model_warmup']) {
      if (root.has(field)) throw root.fieldError(field, `does not apply to an ensemble (its steps are batched by their own models)`);
    }
  }
  const cache = root.message('response_cache');
  return {
    ...(scheduling ? { ensembleScheduling: readEnsembleScheduling(scheduling) } : {}),
    ...(cache ? { responseCache: { enable: cache.scalar<boolean>('enable') ?? false } } : {}),
  };
}

function readEnsembleScheduling(m: DecodedMessage): EnsembleSchedulingConfig {
  const steps = m.messages('step');
  if (steps.length === 0) throw m.fieldError('step', 'must list at least one step');
  return {
    step: steps.map((s) => {
      const modelName = s.scalar<string>('model_name');
      if (!modelName) throw s.fieldError('model_name', modelName === '' ? 'must not be empty' : 'is required');
      const modelVersion = s.scalar<number>('model_version') ?? -1;
      if (modelVersion !== -1 && modelVersion < 1) throw s.fieldError('model_version', `must be -1 (newest ready) or a version >= 1, got ${modelVersion}`);
      const map = (field: string) => {
        const entries = s.stringEntries(field);
        if (entries.length === 0) throw s.fieldError(field, `must map at least one tensor of model "${modelName}"`);
        for (const e of entries) if (e.value === '') throw configError(s.file, e.line, `field '${s.pathOf(field)}[${JSON.stringify(e.key)}]' names an empty ensemble tensor`);
        return Object.fromEntries(entries.map((e) => [e.key, e.value]));
      };
      return { modelName, modelVersion, inputMap: map('input_map'), outputMap: map('output_map') };
    }),
  };
}

/**
 * ONNX Runtime (the default), a TensorRT plan (`platform: "tensorrt_plan"` or `backend: "tensorrt"`), an ensemble
 * (`platform: "ensemble"`), or one of serval's JavaScript backends (`backend: "javascript"` / `"uncertainty"`).
 */
function readPlatform(root: DecodedMessage): { platform: string; backend: string } {
  const platform = root.scalar<string>('platform');
  const backend = root.scalar<string>('backend');
  if (platform === ENSEMBLE_PLATFORM) {
    if (backend !== undefined && backend !== '') throw root.fieldError('backend', `must be empty for platform "${ENSEMBLE_PLATFORM}", got "${backend}"`);
    return { platform: ENSEMBLE_PLATFORM, backend: '' };
  }
  if (backend !== undefined && JS_BACKENDS.includes(backend)) {
    if (platform !== undefined && platform !== backend) throw root.fieldError('platform', `must be empty or "${backend}" for backend "${backend}", got "${platform}"`);
    return { platform: backend, backend };
  }
  const tensorrt = platform === TENSORRT_PLATFORM || (platform === undefined && backend === TENSORRT_BACKEND);
  const expected = tensorrt ? { platform: TENSORRT_PLATFORM, backend: TENSORRT_BACKEND } : { platform: ONNX_PLATFORM, backend: ONNX_BACKEND };
  if (platform !== undefined && platform !== expected.platform) {
    throw root.fieldError('platform', `must be "${ONNX_PLATFORM}", "${TENSORRT_PLATFORM}" or "${ENSEMBLE_PLATFORM}", got "${platform}"`);
  }
  if (backend !== undefined && backend !== expected.backend) {
    throw root.fieldError('backend', `must be "${expected.backend}" for platform "${expected.platform}", got "${backend}"`);
  }
  return expected;
}

function readOptimization(m: DecodedMessage | undefined): OptimizationConfig | undefined {
  if (!m) return undefined;
  const accelerators = m.message('execution_accelerators')?.messages('gpu_execution_accelerator') ?? [];
  const gpuExecutionAccelerator = accelerators.map((a) => {
    const name = a.scalar<string>('name');
    if (name === undefined) throw a.fieldError('name', 'is required');
    if (!(GPU_ACCELERATORS as readonly string[]).includes(name)) {
      throw a.fieldError('name', `must be one of ${GPU_ACCELERATORS.map((n) => `"${n}"`).join(', ')}, got ${JSON.stringify(name)}`);
    }
    return { name };
  });
  return { executionAccelerators: { gpuExecutionAccelerator } };
}

function readName(root: DecodedMessage, modelName: string | undefined): string {
  const name = root.scalar<string>('name');
  if (name === undefined) {
    if (modelName === undefined) throw configError(root.file, undefined, "field 'name' is required");
    return modelName;
  }
  if (name === '') throw root.fieldError('name', 'must not be empty');
  if (modelName !== undefined && name !== modelName) {
    throw root.fieldError('name', `is "${name}" but the model directory is "${modelName}" (they must match)`);
  }
  return name;
}

function readTensors(root: DecodedMessage, field: 'input' | 'output'): TensorConfig[] {
  const seen = new Map<string, number>();
  return root.messages(field).map((m) => {
    const name = m.scalar<string>('name');
    if (!name) throw m.fieldError('name', name === '' ? 'must not be empty' : 'is required');
    const first = seen.get(name);
    if (first !== undefined) throw m.fieldError('name', `repeats ${field} "${name}" (first at line ${first})`);
    seen.set(name, m.line);
    const tritonType = m.scalar<string>('data_type');
    if (tritonType === undefined) throw m.fieldError('data_type', `is required for ${field} "${name}"`);
    if (!m.has('dims')) throw m.fieldError('dims', `is required for ${field} "${name}"`);
    const tensor: TensorConfig = { name, dataType: fromTritonType(tritonType)!, dims: readDims(m, 'dims', -1) };
    const reshape = m.message('reshape');
    if (reshape) {
      tensor.reshape = readDims(reshape, 'shape', -1);
      checkReshape(m, tensor);
    }
    if (m.scalar<boolean>('optional') !== undefined) tensor.optional = m.scalar<boolean>('optional');
    return tensor;
  });
}

/** A repeated int64 dims field: every value must be positive, or -1 (variable) when `wildcard` is -1. */
function readDims(m: DecodedMessage, field: string, wildcard: -1 | null): number[] {
  return m.list<number>(field).map(({ value, line }) => {
    if (value > 0 || (wildcard !== null && value === wildcard)) return value;
    throw m.fieldError(field, `has invalid dimension ${value}: ${wildcard === null ? 'dimensions must be positive' : 'use -1 or a positive size'}`, line);
  });
}

function checkReshape(m: DecodedMessage, tensor: TensorConfig): void {
  const count = (dims: number[]): number | undefined => (dims.includes(-1) ? undefined : dims.reduce((a, b) => a * b, 1));
  const from = count(tensor.dims);
  const to = count(tensor.reshape!);
  if (from !== undefined && to !== undefined && from !== to) {
    throw m.fieldError('reshape', `shape [${tensor.reshape!.join(', ')}] has ${to} elements but dims [${tensor.dims.join(', ')}] has ${from}`);
  }
}

/** `dynamic_batching {}`: batching with no delay, one priority level, unbounded queue, no timeout. */
export function emptyDynamicBatching(): DynamicBatchingConfig {
  return {
    preferredBatchSize: [],
    maxQueueDelayMicroseconds: 0,
    preserveOrdering: false,
    priorityLevels: 0,
    defaultPriorityLevel: 0,
    defaultQueuePolicy: defaultQueuePolicy(),
    priorityQueuePolicy: {},
  };
}

function readDynamicBatching(m: DecodedMessage): DynamicBatchingConfig {
  const preferredBatchSize = m.list<number>('preferred_batch_size').map(({ value, line }) => {
    if (value <= 0) throw m.fieldError('preferred_batch_size', `must be > 0, got ${value}`, line);
    return value;
  });
  const priorityLevels = m.scalar<number>('priority_levels') ?? 0;
  let defaultPriorityLevel = m.scalar<number>('default_priority_level') ?? 0;
  if (priorityLevels === 0 && defaultPriorityLevel !== 0) {
    throw m.fieldError('default_priority_level', `is ${defaultPriorityLevel} but priority_levels is not set`);
  }
  if (defaultPriorityLevel > priorityLevels) {
    throw m.fieldError('default_priority_level', `must be within 1..${priorityLevels} (priority_levels), got ${defaultPriorityLevel}`);
  }
  // Unset with several levels: the middle level, so that requests can be sent both above and below the default.
  if (priorityLevels > 0 && defaultPriorityLevel === 0) defaultPriorityLevel = Math.ceil(priorityLevels / 2);

  const priorityQueuePolicy: Record<number, QueuePolicyConfig> = {};
  for (const { key, value } of m.entries<number>('priority_queue_policy')) {
    if (key < 1 || key > priorityLevels) {
      const range = priorityLevels === 0 ? 'priority_levels is not set' : `levels are 1..${priorityLevels}`;
      throw configError(m.file, value.line, `field '${value.path}' has priority level ${key} but ${range}`);
    }
    priorityQueuePolicy[key] = readQueuePolicy(value);
  }
  const d = emptyDynamicBatching();
  const policy = m.message('default_queue_policy');
  return {
    preferredBatchSize,
    maxQueueDelayMicroseconds: m.scalar<number>('max_queue_delay_microseconds') ?? d.maxQueueDelayMicroseconds,
    preserveOrdering: m.scalar<boolean>('preserve_ordering') ?? d.preserveOrdering,
    priorityLevels,
    defaultPriorityLevel,
    defaultQueuePolicy: policy ? readQueuePolicy(policy) : d.defaultQueuePolicy,
    priorityQueuePolicy,
  };
}

function readQueuePolicy(m: DecodedMessage): QueuePolicyConfig {
  const d = defaultQueuePolicy();
  return {
    timeoutAction: m.scalar<QueuePolicyConfig['timeoutAction']>('timeout_action') ?? d.timeoutAction,
    defaultTimeoutMicroseconds: m.scalar<number>('default_timeout_microseconds') ?? d.defaultTimeoutMicroseconds,
    allowTimeoutOverride: m.scalar<boolean>('allow_timeout_override') ?? d.allowTimeoutOverride,
    maxQueueSize: m.scalar<number>('max_queue_size') ?? d.maxQueueSize,
  };
}

function readInstanceGroups(root: DecodedMessage, model: string, autoKind: 'KIND_CPU' | 'KIND_GPU'): InstanceGroupConfig[] {
  const groups = root.messages('instance_group');
  if (groups.length === 0) return [{ name: `${model}_0`, kind: autoKind, count: 1, gpus: [] }];
  return groups.map((m, i) => {
    const count = m.scalar<number>('count') ?? 1;
    if (count < 1) throw m.fieldError('count', `must be >= 1, got ${count}`);
    const gpus = m.list<number>('gpus').map(({ value, line }) => {
      if (value < 0) throw m.fieldError('gpus', `must list GPU ids >= 0, got ${value}`, line);
      return value;
    });
    let kind = m.scalar<InstanceGroupConfig['kind']>('kind') ?? 'KIND_AUTO';
    if (kind === 'KIND_CPU' && gpus.length > 0) throw m.fieldError('gpus', 'must be empty when kind is KIND_CPU');
    if (kind === 'KIND_AUTO') kind = gpus.length > 0 ? 'KIND_GPU' : autoKind;
    return { name: m.scalar<string>('name') || `${model}_${i}`, kind, count, gpus };
  });
}

function readVersionPolicy(m: DecodedMessage | undefined): VersionPolicyConfig {
  const specific = m?.message('specific');
  if (specific) {
    const versions = specific.list<number>('versions').map(({ value, line }) => {
      if (value < 1) throw specific.fieldError('versions', `must list versions >= 1, got ${value}`, line);
      return value;
    });
    if (versions.length === 0) throw specific.fieldError('versions', 'must list at least one version');
    return { specific: { versions } };
  }
  if (m?.has('all')) return { all: {} };
  const latest = m?.message('latest');
  const numVersions = latest?.scalar<number>('num_versions') ?? 1;
  if (numVersions < 1) throw latest!.fieldError('num_versions', `must be >= 1, got ${numVersions}`);
  return { latest: { numVersions } };
}

function readWarmup(m: DecodedMessage): ModelWarmupConfig {
  const name = m.scalar<string>('name');
  if (!name) throw m.fieldError('name', name === '' ? 'must not be empty' : 'is required');
  const batchSize = m.scalar<number>('batch_size') ?? 1;
  if (batchSize < 1) throw m.fieldError('batch_size', `must be >= 1, got ${batchSize}`);
  const entries = m.entries<string>('inputs');
  if (entries.length === 0) throw m.fieldError('inputs', `is required for warmup "${name}"`);
  const inputs: Record<string, WarmupInputConfig> = {};
  for (const { key, value } of entries) inputs[key] = readWarmupInput(value);
  // Triton: a count of 0 (the default) runs the sample once.
  return { name, batchSize, count: Math.max(1, m.scalar<number>('count') ?? 0), inputs };
}

function readWarmupInput(m: DecodedMessage): WarmupInputConfig {
  const tritonType = m.scalar<string>('data_type');
  if (tritonType === undefined) throw m.fieldError('data_type', 'is required');
  if (!m.has('dims')) throw m.fieldError('dims', 'is required');
  const input: WarmupInputConfig = { dataType: fromTritonType(tritonType)!, dims: readDims(m, 'dims', null) };
  if (m.has('zero_data')) input.zeroData = m.scalar<boolean>('zero_data');
  else if (m.has('random_data')) input.randomData = m.scalar<boolean>('random_data');
  else if (m.has('input_data_file')) input.inputDataFile = readRelativePath(m, 'input_data_file');
  else throw configError(m.file, m.line, `field '${m.path}' needs one of zero_data, random_data or input_data_file`);
  return input;
}

/** A file name with no directory part (default_model_filename). */
function readFileName(m: DecodedMessage, field: string): string | undefined {
  const value = m.scalar<string>(field);
  if (value !== undefined && (value === '' || value === '.' || value === '..' || /[/\\\0]/.test(value))) {
    throw m.fieldError(field, `must be a plain file name, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A relative path that stays inside its directory (warmup input_data_file, read from `<model>/warmup/`). */
function readRelativePath(m: DecodedMessage, field: string): string {
  const value = m.scalar<string>(field)!;
  const parts = value.split(/[/\\]/);
  if (value === '' || value.startsWith('/') || /^[A-Za-z]:/.test(value) || value.includes('\0') || parts.includes('..')) {
    throw m.fieldError(field, `must be a relative path inside the model's warmup directory, got ${JSON.stringify(value)}`);
  }
  return value;
}
