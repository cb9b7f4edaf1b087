/**
 * Auto-complete: merges a parsed config.pbtxt with what the ONNX model declares, as Triton's onnxruntime
 * backend does. Works on plain metadata objects so that it runs (and is tested) without onnxruntime.
 */
import { fromOrtType, toTritonType, type DataType, type OrtType } from '../dtypes.js';
import type { ModelConfig, TensorConfig } from './model-config.js';
import { emptyDynamicBatching, type ConfigSource, type ParsedModelConfig } from './parse-config.js';
import { configError } from './schema-decoder.js';
import { checkBatchLimits, checkWarmupInputs, sourceError } from './validate-config.js';

/** One model input or output as onnxruntime reports it. A string (or negative) dimension is variable. */
export interface OnnxTensorInfo {
  name: string;
  type: OrtType | string;
  shape: readonly (number | string)[];
}

export interface OnnxModelInfo {
  inputs: readonly OnnxTensorInfo[];
  outputs: readonly OnnxTensorInfo[];
}

/**
 * The `max_batch_size` auto-complete gives a model whose every input and output has a variable first
 * dimension, when config.pbtxt does not set one. Triton's default (`--backend-config=default-max-batch-size`)
 * is 4; serval uses 8, which lets dynamic batching pay off on small CPU models without long queues.
 */
export const AUTO_COMPLETE_MAX_BATCH_SIZE = 8;

/** The shape of onnxruntime-node's `InferenceSession` metadata (kept structural: no import of onnxruntime). */
interface SessionValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** `OnnxModelInfo` from an onnxruntime-node session's `inputMetadata` / `outputMetadata`. */
export function modelInfoFromSession(session: {
  readonly inputMetadata: readonly SessionValueMetadata[];
  readonly outputMetadata: readonly SessionValueMetadata[];
}): OnnxModelInfo {
  const convert = (m: SessionValueMetadata): OnnxTensorInfo => ({
    name: m.name,
    // A non-tensor value (sequence, map) gets a type no serval data type matches, so auto-complete names it.
    type: m.isTensor ? m.type ?? 'unknown' : 'non-tensor',
    shape: m.shape ?? [],
  });
  return { inputs: session.inputMetadata.map(convert), outputs: session.outputMetadata.map(convert) };
}

/**
 * Completes `parsed` with `model`:
 * - `max_batch_size`, when the file does not set it: AUTO_COMPLETE_MAX_BATCH_SIZE if the first dimension of every
 *   model input and output is variable (and tensors listed in the file leave it out of `dims`), else 0. A model
 *   that gets batching this way also gets `dynamic_batching` with defaults, unless the file sets it.
 * - inputs and outputs the file does not list are added from the model (variable dimensions become -1).
 * - tensors the file lists must exist in the model with the same data type and compatible dims (`reshape`,
 *   when given, is what is compared); a fixed model dimension must be matched exactly.
 * Returns a new config; throws `InvalidConfigError` naming the file, line and field at fault.
 */
export function autoCompleteConfig(parsed: ParsedModelConfig, model: OnnxModelInfo): ModelConfig {
  const { source } = parsed;
  const config: ModelConfig = structuredClone(parsed.config);
  const inputs = model.inputs.map((t) => resolveTensor(t, 'input', source));
  const outputs = model.outputs.map((t) => resolveTensor(t, 'output', source));

  if (!source.lines.has('max_batch_size')) {
    const all = [...inputs, ...outputs];
    const modelBatches = inputs.length > 0 && all.every((t) => t.shape[0] === -1);
    const listedWithoutBatch = [...config.input, ...config.output].every((c) => {
      const m = all.find((t) => t.name === c.name);
      return !m || (c.reshape ?? c.dims).length === m.shape.length - 1;
    });
    config.maxBatchSize = modelBatches && listedWithoutBatch ? AUTO_COMPLETE_MAX_BATCH_SIZE : 0;
    if (config.maxBatchSize > 0 && !config.dynamicBatching) config.dynamicBatching = emptyDynamicBatching();
  }

  config.input = completeTensors(config.input, inputs, 'input', config.maxBatchSize, source);
  config.output = completeTensors(config.output, outputs, 'output', config.maxBatchSize, source);
  checkBatchLimits(config, source);
  checkWarmupInputs(config, source);
  return config;
}

interface ResolvedTensor {
  name: string;
  dataType: DataType;
  /** -1 for variable dimensions; [] for a scalar (or a model that does not declare the shape). */
  shape: number[];
}

function resolveTensor(t: OnnxTensorInfo, kind: 'input' | 'output', source: ConfigSource): ResolvedTensor {
  const dataType = fromOrtType(t.type);
  if (!dataType) {
    throw configError(source.file, undefined, `the model's ${kind} "${t.name}" has type '${t.type}', which serval does not serve`);
  }
  return { name: t.name, dataType, shape: t.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

function completeTensors(
  configured: readonly TensorConfig[], model: readonly ResolvedTensor[], kind: 'input' | 'output',
  maxBatchSize: number, source: ConfigSource,
): TensorConfig[] {
  const result = configured.map((c, i) => {
    const path = `${kind}[${i}]`;
    const m = model.find((t) => t.name === c.name);
    if (!m) {
      throw sourceError(source, path, `names ${kind} "${c.name}", which the model does not have (model ${kind}s: ${model.map((t) => t.name).join(', ') || 'none'})`);
    }
    if (m.dataType !== c.dataType) {
      throw sourceError(source, `${path}.data_type`, `is ${toTritonType(c.dataType)} but the model's ${kind} "${c.name}" is ${toTritonType(m.dataType)}`);
    }
    checkDims(c, m, kind, `${path}.${c.reshape ? 'reshape' : 'dims'}`, maxBatchSize, source);
    return c;
  });
  for (const m of model) {
    if (result.some((c) => c.name === m.name)) continue;
    // Shape [] is rank 0 (a scalar; v2 `shape: []`): onnxruntime reports it so, and enforces it.
    result.push({ name: m.name, dataType: m.dataType, dims: modelDims(m, kind, maxBatchSize, source) });
  }
  return result;
}

/** The model's shape without the batch dimension when the model batches. */
function modelDims(m: ResolvedTensor, kind: string, maxBatchSize: number, source: ConfigSource): number[] {
  if (maxBatchSize === 0) return m.shape;
  if (m.shape.length === 0 || m.shape[0] !== -1) {
    throw sourceError(source, 'max_batch_size',
      `is ${maxBatchSize} but the model's ${kind} "${m.name}" has no variable batch dimension (shape [${m.shape.join(', ')}])`);
  }
  return m.shape.slice(1);
}

function checkDims(
  c: TensorConfig, m: ResolvedTensor, kind: string, path: string, maxBatchSize: number, source: ConfigSource,
): void {
  // A scalar, or a shape the model does not declare (onnxruntime reports both as []): the file's dims stand.
  if (m.shape.length === 0) return;
  const expected = modelDims(m, kind, maxBatchSize, source);
  const dims = c.reshape ?? c.dims;
  const compatible = dims.length === expected.length && expected.every((d, i) => d === -1 || d === dims[i]);
  if (!compatible) {
    const batch = maxBatchSize > 0 ? ' after the batch dimension' : '';
    throw sourceError(source, path,
      `is [${dims.join(', ')}] but the model's "${c.name}" has shape [${expected.join(', ')}]${batch} (-1 = variable)`);
  }
}
