/**
 * The subset of Triton's model_config.proto that serval reads from config.pbtxt, as a table: for each message,
 * its fields with their protobuf type. Field and message names are Triton's, so errors speak Triton's language.
 * `schema-decoder.ts` checks a parsed file against this table; `parse-config.ts` adds defaults and semantics.
 */
import { DATA_TYPES, toTritonType } from '../dtypes.js';

export type ScalarType = 'string' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64';

export type FieldSchema =
  | { readonly type: ScalarType; readonly repeated?: true }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly repeated?: true }
  | { readonly type: 'message'; readonly message: MessageSchema; readonly repeated?: true }
  /**
   * A protobuf map, written in text format as repeated `{ key: ... value { ... } }` entries, or
   * `{ key: "..." value: "..." }` when the value is a string (`value: 'string'`).
   */
  | { readonly type: 'map'; readonly key: 'string' | 'uint64'; readonly value: MessageSchema | 'string' };

export interface MessageSchema {
  /** Triton's message name, used in errors (`unknown field 'x' in ModelConfig`). */
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldSchema>>;
  /** Groups of fields of which at most one may be set (protobuf `oneof`). */
  readonly oneofs?: readonly (readonly string[])[];
  /** Triton fields serval does not implement: rejected as such rather than as unknown. */
  readonly unsupported?: readonly string[];
}

export const TRITON_DATA_TYPES: readonly string[] = DATA_TYPES.map(toTritonType);
export const INSTANCE_KINDS = ['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL'] as const;
export const TIMEOUT_ACTIONS = ['REJECT', 'DELAY'] as const;

const dataType: FieldSchema = { type: 'enum', values: TRITON_DATA_TYPES };
const dims: FieldSchema = { type: 'int64', repeated: true };

const RESHAPE: MessageSchema = { name: 'ModelTensorReshape', fields: { shape: dims } };

/** The fields ModelInput and ModelOutput share. */
const TENSOR_FIELDS: Readonly<Record<string, FieldSchema>> = {
  name: { type: 'string' },
  data_type: dataType,
  dims,
  reshape: { type: 'message', message: RESHAPE },
};

const INPUT: MessageSchema = {
  name: 'ModelInput',
  fields: { ...TENSOR_FIELDS, optional: { type: 'bool' } },
  unsupported: ['format', 'is_shape_tensor', 'allow_ragged_batch', 'is_non_linear_format_io'],
};

const OUTPUT: MessageSchema = {
  name: 'ModelOutput',
  fields: TENSOR_FIELDS,
  unsupported: ['label_filename', 'is_shape_tensor', 'is_non_linear_format_io'],
};

const QUEUE_POLICY: MessageSchema = {
  name: 'ModelQueuePolicy',
  fields: {
    timeout_action: { type: 'enum', values: TIMEOUT_ACTIONS },
    default_timeout_microseconds: { type: 'uint64' },
    allow_timeout_override: { type: 'bool' },
    max_queue_size: { type: 'uint32' },
  },
};

const DYNAMIC_BATCHING: MessageSchema = {
  name: 'ModelDynamicBatching',
  fields: {
    preferred_batch_size: { type: 'int32', repeated: true },
    max_queue_delay_microseconds: { type: 'uint64' },
    preserve_ordering: { type: 'bool' },
    priority_levels: { type: 'uint64' },
    default_priority_level: { type: 'uint64' },
    default_queue_policy: { type: 'message', message: QUEUE_POLICY },
    priority_queue_policy: { type: 'map', key: 'uint64', value: QUEUE_POLICY },
  },
  unsupported: ['priority_queue_policy_key', 'default_max_batch_size'],
};

const INSTANCE_GROUP: MessageSchema = {
  name: 'ModelInstanceGroup',
  fields: {
    name: { type: 'string' },
    kind: { type: 'enum', values: INSTANCE_KINDS },
    count: { type: 'int32' },
    gpus: { type: 'int32', repeated: true },
  },
  unsupported: ['rate_limiter', 'secondary_devices', 'profile', 'passive', 'host_policy'],
};

const VERSION_POLICY: MessageSchema = {
  name: 'ModelVersionPolicy',
  fields: {
    latest: { type: 'message', message: { name: 'Latest', fields: { num_versions: { type: 'uint32' } } } },
    all: { type: 'message', message: { name: 'All', fields: {} } },
    specific: { type: 'message', message: { name: 'Specific', fields: { versions: { type: 'int64', repeated: true } } } },
  },
  oneofs: [['latest', 'all', 'specific']],
};

const PARAMETER: MessageSchema = { name: 'ModelParameter', fields: { string_value: { type: 'string' } } };

const WARMUP_INPUT: MessageSchema = {
  name: 'ModelWarmup.Input',
  fields: {
    data_type: dataType,
    dims,
    zero_data: { type: 'bool' },
    random_data: { type: 'bool' },
    input_data_file: { type: 'string' },
  },
  oneofs: [['zero_data', 'random_data', 'input_data_file']],
};

const WARMUP: MessageSchema = {
  name: 'ModelWarmup',
  fields: {
    name: { type: 'string' },
    batch_size: { type: 'uint32' },
    count: { type: 'uint32' },
    inputs: { type: 'map', key: 'string', value: WARMUP_INPUT },
  },
};

/** `gpu_execution_accelerator` names serval maps to onnxruntime providers (Triton's ONNX Runtime backend). */
export const GPU_ACCELERATORS = ['tensorrt'] as const;

const ACCELERATOR: MessageSchema = {
  name: 'ModelOptimizationPolicy.ExecutionAccelerators.Accelerator',
  fields: { name: { type: 'string' } },
  unsupported: ['parameters'],
};

const OPTIMIZATION: MessageSchema = {
  name: 'ModelOptimizationPolicy',
  fields: {
    execution_accelerators: {
      type: 'message',
      message: {
        name: 'ModelOptimizationPolicy.ExecutionAccelerators',
        fields: { gpu_execution_accelerator: { type: 'message', message: ACCELERATOR, repeated: true } },
        unsupported: ['cpu_execution_accelerator'],
      },
    },
  },
  unsupported: [
    'graph', 'priority', 'cuda', 'input_pinned_memory', 'output_pinned_memory', 'gather_kernel_buffer_threshold', 'eager_batching',
  ],
};

const STRING_MAP: FieldSchema = { type: 'map', key: 'string', value: 'string' };

/** Triton's ModelEnsembling.Step: one member request; its maps name member tensors (key) by ensemble tensors (value). */
const ENSEMBLE_STEP: MessageSchema = {
  name: 'ModelEnsembling.Step',
  fields: { model_name: { type: 'string' }, model_version: { type: 'int64' }, input_map: STRING_MAP, output_map: STRING_MAP },
  unsupported: ['model_namespace'],
};

const ENSEMBLE_SCHEDULING: MessageSchema = {
  name: 'ModelEnsembling',
  fields: { step: { type: 'message', message: ENSEMBLE_STEP, repeated: true } },
};

const RESPONSE_CACHE: MessageSchema = { name: 'ModelResponseCache', fields: { enable: { type: 'bool' } } };

export const MODEL_CONFIG_SCHEMA: MessageSchema = {
  name: 'ModelConfig',
  fields: {
    name: { type: 'string' },
    platform: { type: 'string' },
    backend: { type: 'string' },
    max_batch_size: { type: 'int32' },
    input: { type: 'message', message: INPUT, repeated: true },
    output: { type: 'message', message: OUTPUT, repeated: true },
    dynamic_batching: { type: 'message', message: DYNAMIC_BATCHING },
    instance_group: { type: 'message', message: INSTANCE_GROUP, repeated: true },
    version_policy: { type: 'message', message: VERSION_POLICY },
    parameters: { type: 'map', key: 'string', value: PARAMETER },
    model_warmup: { type: 'message', message: WARMUP, repeated: true },
    default_model_filename: { type: 'string' },
    optimization: { type: 'message', message: OPTIMIZATION },
    ensemble_scheduling: { type: 'message', message: ENSEMBLE_SCHEDULING },
    response_cache: { type: 'message', message: RESPONSE_CACHE },
  },
  unsupported: [
    'sequence_batching', 'batch_input', 'batch_output',
    'cc_model_filenames', 'metric_tags', 'model_operations', 'model_transaction_policy',
    'model_repository_agents', 'runtime',
  ],
};
