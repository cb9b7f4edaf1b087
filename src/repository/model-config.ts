/**
 * The normalised model configuration serval runs with: Triton's config.pbtxt fields (names in camelCase),
 * after parsing, defaults and auto-completion from the ONNX model. Produced by `src/repository/`.
 */
import type { DataType } from '../dtypes.js';

export interface TensorConfig {
  name: string;
  dataType: DataType;
  /** Shape without the batch dimension when `maxBatchSize > 0`; -1 marks a variable dimension. */
  dims: number[];
  /** config.pbtxt `reshape { shape: [...] }`, when given. */
  reshape?: number[];
  /** config.pbtxt `optional: true` (inputs only). */
  optional?: boolean;
}

export interface QueuePolicyConfig {
  /** @default 'REJECT' */
  timeoutAction: 'REJECT' | 'DELAY';
  /** 0 means no timeout. @default 0 */
  defaultTimeoutMicroseconds: number;
  /** @default false */
  allowTimeoutOverride: boolean;
  /** 0 means unbounded. @default 0 */
  maxQueueSize: number;
}

export interface DynamicBatchingConfig {
  /** @default [] */
  preferredBatchSize: number[];
  /** @default 0 */
  maxQueueDelayMicroseconds: number;
  /** @default false */
  preserveOrdering: boolean;
  /** 0 means a single level. @default 0 */
  priorityLevels: number;
  /** @default 0 (the middle level is used when priorityLevels > 0 and this is 0) */
  defaultPriorityLevel: number;
  defaultQueuePolicy: QueuePolicyConfig;
  /** Keyed by priority level (1 = highest). */
  priorityQueuePolicy: Record<number, QueuePolicyConfig>;
}

export interface InstanceGroupConfig {
  name: string;
  /** @default 'KIND_CPU' on a machine without CUDA */
  kind: 'KIND_AUTO' | 'KIND_CPU' | 'KIND_GPU' | 'KIND_MODEL';
  /** @default 1 */
  count: number;
  gpus: number[];
}

export type VersionPolicyConfig =
  | { latest: { numVersions: number } }
  | { all: Record<string, never> }
  | { specific: { versions: number[] } };

export interface WarmupInputConfig {
  dataType: DataType;
  dims: number[];
  zeroData?: boolean;
  randomData?: boolean;
  inputDataFile?: string;
}

export interface ModelWarmupConfig {
  name: string;
  batchSize: number;
  count: number;
  inputs: Record<string, WarmupInputConfig>;
}

/**
 * config.pbtxt `optimization` (the part serval reads): `execution_accelerators { gpu_execution_accelerator:
 * [ { name: "tensorrt" } ] }` asks KIND_GPU instances to run on onnxruntime's TensorRT provider.
 */
export interface OptimizationConfig {
  executionAccelerators: { gpuExecutionAccelerator: { name: string }[] };
}

/**
 * One step of an ensemble (Triton's `ensemble_scheduling.step`): a request to `modelName`. `inputMap` maps the
 * member's input names to ensemble tensor names, `outputMap` the member's output names to ensemble tensor names.
 */
export interface EnsembleStepConfig {
  modelName: string;
  /** -1: the newest ready version at request time. @default -1 */
  modelVersion: number;
  inputMap: Record<string, string>;
  outputMap: Record<string, string>;
}

export interface EnsembleSchedulingConfig {
  step: EnsembleStepConfig[];
}

export interface ModelConfig {
  name: string;
  /** @default 'onnxruntime_onnx' */
  platform: string;
  /** @default 'onnxruntime' */
  backend: string;
  /** 0 disables batching (the model's inputs carry their full shape). */
  maxBatchSize: number;
  input: TensorConfig[];
  output: TensorConfig[];
  /** Absent: requests are still batched opportunistically up to maxBatchSize with no delay (Triton's default scheduler runs one request at a time; serval documents this difference). */
  dynamicBatching?: DynamicBatchingConfig;
  instanceGroup: InstanceGroupConfig[];
  versionPolicy: VersionPolicyConfig;
  /** config.pbtxt `parameters { key: "..." value { string_value: "..." } }`. */
  parameters: Record<string, string>;
  modelWarmup: ModelWarmupConfig[];
  /** config.pbtxt `default_model_filename`. @default 'model.onnx' */
  defaultModelFilename: string;
  /** Present when config.pbtxt has an `optimization` block. */
  optimization?: OptimizationConfig;
  /** `platform: "ensemble"` models: the steps (src/ensemble/ runs them). */
  ensembleScheduling?: EnsembleSchedulingConfig;
  /** config.pbtxt `response_cache { enable: true }`: answers repeated identical requests from the runtime's cache. */
  responseCache?: { enable: boolean };
}

export function defaultQueuePolicy(): QueuePolicyConfig {
  return { timeoutAction: 'REJECT', defaultTimeoutMicroseconds: 0, allowTimeoutOverride: false, maxQueueSize: 0 };
}
