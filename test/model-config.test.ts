import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../src/repository/parse-config.js';
import { caught, type CaughtError } from './helpers/caught.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const FILE = 'models/m/config.pbtxt';

function parse(text: string) {
  return parseModelConfig(text, { file: FILE, modelName: 'm' }).config;
}

function configError(text: string): CaughtError {
  return caught(() => parseModelConfig(text, { file: FILE, modelName: 'm' }));
}

describe('bundled configs', () => {
  const names = readdirSync(MODELS).filter((n) => existsSync(join(MODELS, n, 'config.pbtxt')));

  it('include the bundled models, pipelines and ensembles', () => {
    expect(names.sort()).toEqual([
      'fraud_ensemble', 'fraud_mlp', 'fraud_mlp_s1', 'fraud_mlp_s2', 'fraud_mlp_s3', 'fraud_pipeline', 'fraud_postprocess',
      'fraud_preprocess', 'fraud_uncertainty', 'image_cnn', 'tabular_mixed',
    ]);
  });

  it.each(names)('%s/config.pbtxt parses', (name) => {
    const file = join(MODELS, name, 'config.pbtxt');
    const { config } = parseModelConfig(readFileSync(file, 'utf8'), { file, modelName: name });
    expect(config.name).toBe(name);
    expect(config.maxBatchSize).toBeGreaterThan(0);
    expect(config.input.length).toBeGreaterThan(0);
    // An ensemble has no batcher of its own: its steps are batched by their members.
    if (config.platform === 'ensemble') expect(config.ensembleScheduling?.step.length).toBeGreaterThan(0);
    else expect(config.dynamicBatching).toBeDefined();
  });

  it('fraud_mlp reads as written', () => {
    const file = join(MODELS, 'fraud_mlp', 'config.pbtxt');
    const { config } = parseModelConfig(readFileSync(file, 'utf8'), { file, modelName: 'fraud_mlp' });
    expect(config.maxBatchSize).toBe(256);
    expect(config.input).toEqual([{ name: 'features', dataType: 'FP32', dims: [128] }]);
    expect(config.output).toEqual([{ name: 'probability', dataType: 'FP32', dims: [1] }]);
    expect(config.dynamicBatching?.preferredBatchSize).toEqual([32, 64, 128]);
    expect(config.dynamicBatching?.maxQueueDelayMicroseconds).toBe(0);
    expect(config.instanceGroup).toEqual([{ name: 'fraud_mlp_0', kind: 'KIND_CPU', count: 2, gpus: [] }]);
  });
});

describe('defaults', () => {
  it('an empty config takes its name from the directory and Triton defaults elsewhere', () => {
    expect(parse('')).toEqual({
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', maxBatchSize: 0, input: [], output: [],
      instanceGroup: [{ name: 'm_0', kind: 'KIND_CPU', count: 1, gpus: [] }],
      versionPolicy: { latest: { numVersions: 1 } }, parameters: {}, modelWarmup: [], defaultModelFilename: 'model.onnx',
    });
  });

  it('an empty dynamic_batching block gets the default queue policy', () => {
    expect(parse('max_batch_size: 4 dynamic_batching {}').dynamicBatching).toEqual({
      preferredBatchSize: [], maxQueueDelayMicroseconds: 0, preserveOrdering: false, priorityLevels: 0,
      defaultPriorityLevel: 0, priorityQueuePolicy: {},
      defaultQueuePolicy: { timeoutAction: 'REJECT', defaultTimeoutMicroseconds: 0, allowTimeoutOverride: false, maxQueueSize: 0 },
    });
  });

  it('priority levels default to the middle level', () => {
    expect(parse('dynamic_batching { priority_levels: 3 }').dynamicBatching?.defaultPriorityLevel).toBe(2);
  });

  it('KIND_AUTO resolves to the autoKind option, or to GPU when gpus are listed', () => {
    const text = 'instance_group [{ kind: KIND_AUTO }, { gpus: [0] }, { count: 3 }]';
    expect(parseModelConfig(text, { modelName: 'm', autoKind: 'KIND_GPU' }).config.instanceGroup.map((g) => g.kind))
      .toEqual(['KIND_GPU', 'KIND_GPU', 'KIND_GPU']);
    expect(parse(text).instanceGroup.map((g) => [g.kind, g.count])).toEqual([['KIND_CPU', 1], ['KIND_GPU', 1], ['KIND_CPU', 3]]);
  });
});

describe('full subset', () => {
  it('reads every supported field', () => {
    const config = parse(`
      name: "m"  backend: "onnxruntime"  max_batch_size: 16
      default_model_filename: "net.onnx"
      input { name: "x" data_type: TYPE_FP16 dims: [2, 3] reshape { shape: [6] } optional: true }
      output: [{ name: "y", data_type: TYPE_STRING, dims: [-1] }]
      dynamic_batching {
        preferred_batch_size: 4  preferred_batch_size: 8
        max_queue_delay_microseconds: 100  preserve_ordering: true
        priority_levels: 2  default_priority_level: 1
        default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 5000 allow_timeout_override: true max_queue_size: 10 }
        priority_queue_policy { key: 2 value { max_queue_size: 3 } }
      }
      instance_group { name: "g" kind: KIND_GPU count: 2 gpus: [0, 1] }
      version_policy { specific { versions: [1, 3] } }
      parameters { key: "intra_op_thread_count" value { string_value: "2" } }
      parameters: { key: "empty" value: {} }
      model_warmup {
        name: "w" batch_size: 4 count: 2
        inputs { key: "x" value { data_type: TYPE_FP16 dims: [2, 3] random_data: true } }
      }`);
    expect(config.input).toEqual([{ name: 'x', dataType: 'FP16', dims: [2, 3], reshape: [6], optional: true }]);
    expect(config.output).toEqual([{ name: 'y', dataType: 'BYTES', dims: [-1] }]);
    expect(config.dynamicBatching).toEqual({
      preferredBatchSize: [4, 8], maxQueueDelayMicroseconds: 100, preserveOrdering: true, priorityLevels: 2,
      defaultPriorityLevel: 1,
      defaultQueuePolicy: { timeoutAction: 'DELAY', defaultTimeoutMicroseconds: 5000, allowTimeoutOverride: true, maxQueueSize: 10 },
      priorityQueuePolicy: { 2: { timeoutAction: 'REJECT', defaultTimeoutMicroseconds: 0, allowTimeoutOverride: false, maxQueueSize: 3 } },
    });
    expect(config.instanceGroup).toEqual([{ name: 'g', kind: 'KIND_GPU', count: 2, gpus: [0, 1] }]);
    expect(config.versionPolicy).toEqual({ specific: { versions: [1, 3] } });
    expect(config.parameters).toEqual({ intra_op_thread_count: '2', empty: '' });
    expect(config.modelWarmup).toEqual([
      { name: 'w', batchSize: 4, count: 2, inputs: { x: { dataType: 'FP16', dims: [2, 3], randomData: true } } },
    ]);
    expect(config.defaultModelFilename).toBe('net.onnx');
  });

  it('reads version_policy latest and all', () => {
    expect(parse('version_policy { latest { num_versions: 2 } }').versionPolicy).toEqual({ latest: { numVersions: 2 } });
    expect(parse('version_policy: { all: {} }').versionPolicy).toEqual({ all: {} });
  });
});

describe('bad input', () => {
  it.each([
    ['a misspelt field', 'name: "m"\n\nmax_batch_sizee: 8', 3, "unknown field 'max_batch_sizee' in ModelConfig"],
    ['an unknown nested field', 'dynamic_batching {\n  max_delay: 1\n}', 2, "unknown field 'max_delay' in ModelDynamicBatching (at 'dynamic_batching')"],
    ['an unsupported Triton feature', 'sequence_batching {}', 1, "field 'sequence_batching' is a Triton feature serval does not support"],
    ['a name that is not the directory', 'name: "other"', 1, `field 'name' is "other" but the model directory is "m"`],
    ['an empty name', 'name: ""', 1, "field 'name' must not be empty"],
    ['a negative max_batch_size', '\nmax_batch_size: -1', 2, "field 'max_batch_size' must be >= 0, got -1"],
    ['a string for an integer', 'max_batch_size: "8"', 1, `field 'max_batch_size' expects an integer (int32), got "8"`],
    ['a float for an integer', 'max_batch_size: 1.5', 1, "field 'max_batch_size' expects an integer (int32), got 1.5"],
    ['an int32 overflow', 'max_batch_size: 2147483648', 1, "field 'max_batch_size' value 2147483648 is out of range for int32"],
    ['a negative unsigned value', 'dynamic_batching { max_queue_delay_microseconds: -5 }', 1, "field 'dynamic_batching.max_queue_delay_microseconds' value -5 is out of range for uint64"],
    ['an unquoted string', 'platform: onnxruntime_onnx', 1, "field 'platform' expects a string in quotes, got onnxruntime_onnx"],
    ['another platform', 'platform: "tensorflow_savedmodel"', 1, `field 'platform' must be "onnxruntime_onnx"`],
    ['another backend', 'backend: "python"', 1, `field 'backend' must be "onnxruntime"`],
    ['a singular field twice', 'max_batch_size: 1\nmax_batch_size: 2', 2, "field 'max_batch_size' is specified more than once (first at line 1)"],
    ['list syntax on a singular field', 'max_batch_size: [1]', 1, "field 'max_batch_size' is not repeated"],
    ['a scalar for a message', 'dynamic_batching: 1', 1, "field 'dynamic_batching' is a message"],
    ['a bad bool', 'dynamic_batching { preserve_ordering: yes }', 1, "field 'dynamic_batching.preserve_ordering' expects true or false, got yes"],
    ['an unknown data type', 'input {\n name: "x"\n data_type: TYPE_FP33\n dims: [1] }', 3, "field 'input[0].data_type' expects one of TYPE_BOOL"],
    ['an input without a name', 'input { data_type: TYPE_FP32 dims: [1] }', 1, "field 'input[0].name' is required"],
    ['an input without data_type', 'input [{ name: "x" dims: [1] }]', 1, `field 'input[0].data_type' is required for input "x"`],
    ['an output without dims', 'output [{ name: "y" data_type: TYPE_FP32 }]', 1, `field 'output[0].dims' is required for output "y"`],
    ['a zero dim', 'input { name: "x" data_type: TYPE_FP32\n dims: [ 4,\n 0 ] }', 3, "field 'input[0].dims' has invalid dimension 0"],
    ['a dim below -1', 'input { name: "x" data_type: TYPE_FP32 dims: [-2] }', 1, "field 'input[0].dims' has invalid dimension -2"],
    ['a duplicate input name', 'input [{ name: "x" data_type: TYPE_FP32 dims: [1] },\n{ name: "x" data_type: TYPE_FP32 dims: [1] }]', 2, `field 'input[1].name' repeats input "x" (first at line 1)`],
    ['a reshape with another element count', 'input { name: "x" data_type: TYPE_FP32 dims: [2, 3] reshape { shape: [5] } }', 1, "field 'input[0].reshape' shape [5] has 5 elements but dims [2, 3] has 6"],
    ['optional on an output', 'output { name: "y" data_type: TYPE_FP32 dims: [1] optional: true }', 1, "unknown field 'optional' in ModelOutput"],
    ['a zero preferred batch size', 'max_batch_size: 8 dynamic_batching { preferred_batch_size: [4, 0] }', 1, "field 'dynamic_batching.preferred_batch_size' must be > 0, got 0"],
    ['a preferred size above max_batch_size', 'max_batch_size: 8\ndynamic_batching {\n preferred_batch_size: [4, 16] }', 3, "field 'dynamic_batching.preferred_batch_size' has 16, which exceeds max_batch_size 8"],
    ['preferred sizes without batching', 'max_batch_size: 0\ndynamic_batching { preferred_batch_size: 4 }', 2, "field 'dynamic_batching.preferred_batch_size' needs max_batch_size > 0"],
    ['a default level without levels', 'dynamic_batching { default_priority_level: 1 }', 1, "field 'dynamic_batching.default_priority_level' is 1 but priority_levels is not set"],
    ['a default level above the levels', 'dynamic_batching { priority_levels: 2\n default_priority_level: 3 }', 2, "field 'dynamic_batching.default_priority_level' must be within 1..2 (priority_levels), got 3"],
    ['a queue policy for a missing level', 'dynamic_batching { priority_levels: 2\n priority_queue_policy { key: 3 value {} } }', 2, `field 'dynamic_batching.priority_queue_policy[3]' has priority level 3 but levels are 1..2`],
    ['a queue policy without levels', 'dynamic_batching { priority_queue_policy { key: 1 value {} } }', 1, 'but priority_levels is not set'],
    ['a bad timeout action', 'dynamic_batching { default_queue_policy { timeout_action: DROP } }', 1, "field 'dynamic_batching.default_queue_policy.timeout_action' expects one of REJECT, DELAY, got DROP"],
    ['an instance count of 0', 'instance_group [{\n count: 0 }]', 2, "field 'instance_group[0].count' must be >= 1, got 0"],
    ['an unknown instance kind', 'instance_group { kind: KIND_TPU }', 1, "field 'instance_group[0].kind' expects one of KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL"],
    ['gpus on a CPU group', 'instance_group { kind: KIND_CPU gpus: [0] }', 1, "field 'instance_group[0].gpus' must be empty when kind is KIND_CPU"],
    ['a negative gpu id', 'instance_group { gpus: [-1] }', 1, "field 'instance_group[0].gpus' must list GPU ids >= 0, got -1"],
    ['two version policies', 'version_policy {\n latest {}\n all {} }', 3, "field 'version_policy.all' conflicts with 'version_policy.latest'"],
    ['latest with 0 versions', 'version_policy { latest { num_versions: 0 } }', 1, "field 'version_policy.latest.num_versions' must be >= 1, got 0"],
    ['specific without versions', 'version_policy { specific {} }', 1, "field 'version_policy.specific.versions' must list at least one version"],
    ['specific version 0', 'version_policy { specific { versions: [0] } }', 1, "field 'version_policy.specific.versions' must list versions >= 1, got 0"],
    ['a duplicate parameter key', 'parameters { key: "a" value {} }\nparameters { key: "a" value {} }', 2, `field 'parameters' has key "a" twice (first at line 1)`],
    ['a parameter without key', 'parameters { value { string_value: "x" } }', 1, "field 'parameters' has an entry without a key"],
    ['a stray field in a map entry', 'parameters { key: "a" val {} }', 1, "unknown field 'val' in an entry of map 'parameters'"],
    ['a non-string parameter value', 'parameters { key: "a" value { string_value: 3 } }', 1, `field 'parameters["a"].string_value' expects a string in quotes, got 3`],
    ['a model filename with a directory', 'default_model_filename: "../x.onnx"', 1, `field 'default_model_filename' must be a plain file name, got "../x.onnx"`],
    ['a warmup without name', 'model_warmup { inputs { key: "x" value { data_type: TYPE_FP32 dims: [1] zero_data: true } } }', 1, "field 'model_warmup[0].name' is required"],
    ['a warmup without inputs', 'model_warmup { name: "w" }', 1, `field 'model_warmup[0].inputs' is required for warmup "w"`],
    ['a warmup input without data', 'model_warmup { name: "w"\n inputs { key: "x" value { data_type: TYPE_FP32 dims: [1] } } }', 2, `field 'model_warmup[0].inputs["x"]' needs one of zero_data, random_data or input_data_file`],
    ['a warmup input with two data sources', 'model_warmup { name: "w" inputs { key: "x" value { data_type: TYPE_FP32 dims: [1]\n zero_data: true\n random_data: true } } }', 3, 'conflicts with'],
    ['a warmup input with a variable dim', 'model_warmup { name: "w" inputs { key: "x" value { data_type: TYPE_FP32 dims: [-1] zero_data: true } } }', 1, `field 'model_warmup[0].inputs["x"].dims' has invalid dimension -1: dimensions must be positive`],
    ['a warmup file outside the model', 'model_warmup { name: "w" inputs { key: "x" value { data_type: TYPE_FP32 dims: [1] input_data_file: "../../etc/passwd" } } }', 1, 'must be a relative path inside the model\'s warmup directory'],
    ['a warmup batch above max_batch_size', 'max_batch_size: 4\nmodel_warmup { name: "w"\n batch_size: 8 inputs { key: "x" value { data_type: TYPE_FP32 dims: [1] zero_data: true } } }', 3, "field 'model_warmup[0].batch_size' is 8, which exceeds max_batch_size 4"],
  ])('rejects %s', (_case, text, line, message) => {
    const err = configError(text);
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(`${FILE}:${line}: `);
    expect(err.message).toContain(message);
  });

  it('rejects a config without name when no model name is known', () => {
    const err = caught(() => parseModelConfig('max_batch_size: 1', { file: 'x.pbtxt' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe("x.pbtxt: field 'name' is required");
  });
});
