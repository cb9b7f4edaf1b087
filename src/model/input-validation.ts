/**
 * Validates a request's inputs against a model's config and converts them to the arrays the native
 * enqueue takes. All semantic checks and their messages live here (the binding only type-checks).
 * Every failure is an InvalidInputError naming the model, the input and what was expected.
 */
import { dataMatchesType, dataTypeInfo, fromOrtType, isDataType, type DataType } from '../dtypes.js';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { InferInputs, InferOptions } from '../api-types.js';
import { HEADER } from './completion-table.js';

/** Accepts v2 names ('FP32') and onnxruntime names ('float32', as on an ort.Tensor). */
function normaliseType(type: unknown): DataType | undefined {
  if (typeof type !== 'string') return undefined;
  return isDataType(type) ? type : fromOrtType(type);
}

/** What checking a model's inputs needs, computed once per model version instead of per request. */
export interface InputPlan {
  model: string;
  batching: boolean;
  maxBatchSize: number;
  inputs: { name: string; dataType: DataType; expected: readonly number[]; where: string }[];
}

export function inputPlan(config: ModelConfig): InputPlan {
  const batching = config.maxBatchSize > 0;
  return {
    model: config.name,
    batching,
    maxBatchSize: config.maxBatchSize,
    inputs: config.input.map((spec) => ({
      name: spec.name,
      dataType: spec.dataType,
      expected: batching ? [-1, ...spec.dims] : [...spec.dims],
      where: `input '${spec.name}' of model '${config.name}'`,
    })),
  };
}

/**
 * Checks `inputs` against the model and writes what the binding reads into the request header: the batch
 * size at `HEADER.batchSize`, then each input's rank and dims from `HEADER.dims`. Returns the inputs' data
 * in the model's input order.
 */
export function prepareInputs(plan: InputPlan, inputs: InferInputs, header: Float64Array): unknown[] {
  const model = plan.model;
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new InvalidInputError(`inputs for model '${model}' must be an object mapping input names to tensors`);
  }
  const data = new Array<unknown>(plan.inputs.length);
  let batchSize = -1;
  let h = HEADER.dims;
  for (let k = 0; k < plan.inputs.length; k++) {
    const spec = plan.inputs[k]!;
    const t = (inputs as Record<string, unknown>)[spec.name] as { type?: unknown; dims?: unknown; data?: unknown } | undefined;
    const where = spec.where;
    if (t === undefined || t === null) {
      rejectUnexpected(plan, inputs);
      throw new InvalidInputError(`missing ${where}`);
    }
    if (typeof t !== 'object') throw new InvalidInputError(`${where} must be a tensor { dims, data }`);
    if (t.type !== undefined && t.type !== spec.dataType) {
      const type = normaliseType(t.type);
      if (type !== spec.dataType) {
        throw new InvalidInputError(`${where} has datatype ${String(t.type)}, expected ${spec.dataType}`);
      }
    }
    const shape = t.dims as number[];
    const expected = spec.expected;
    if (!Array.isArray(shape)) throw new InvalidInputError(`${where} needs dims as an array of non-negative integers`);
    if (shape.length !== expected.length) shapeMismatch(where, shape, expected);
    if (h + 1 + shape.length > header.length) throw new InvalidInputError(`inputs of model '${model}' have too many dimensions in all`);
    header[h++] = shape.length;
    let count = 1;
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i]!;
      if (!Number.isSafeInteger(d) || d < 0 || (expected[i] !== -1 && expected[i] !== d)) shapeMismatch(where, shape, expected);
      header[h++] = d;
      count *= d;
    }
    const value = t.data;
    if (!dataMatchesType(spec.dataType, value)) {
      const want = spec.dataType === 'BYTES' ? 'an array of strings' : dataTypeInfo(spec.dataType).arrayType;
      throw new InvalidInputError(`${where} (${spec.dataType}) needs data as ${want}`);
    }
    if (spec.dataType === 'BYTES') {
      const bad = (value as unknown[]).findIndex((e) => typeof e !== 'string' || e.includes('\u0000'));
      if (bad >= 0) {
        throw new InvalidInputError(`${where} element ${bad} is not a string without NUL characters ` +
          `(onnxruntime string tensors end each string at the first NUL)`);
      }
    } else {
      rejectDetached(value as ArrayBufferView, where);
    }
    const length = (value as { length: number }).length;
    if (length !== count) {
      throw new InvalidInputError(`${where} has ${length} elements, shape [${shape.join(',')}] needs ${count}`);
    }
    if (plan.batching) {
      const b = shape[0]!;
      if (b < 1 || b > plan.maxBatchSize) {
        throw new InvalidInputError(`${where} has batch size ${b}, model allows 1..${plan.maxBatchSize}`);
      }
      if (batchSize !== -1 && b !== batchSize) {
        throw new InvalidInputError(`inputs of model '${model}' disagree on the batch size (${batchSize} vs ${b} for '${spec.name}')`);
      }
      batchSize = b;
    }
    data[k] = value;
  }
  // Every input was found: any other key is one the model does not have.
  let keys = 0;
  for (const _ in inputs) keys++;
  if (keys !== plan.inputs.length) rejectUnexpected(plan, inputs);
  header[HEADER.batchSize] = plan.batching ? batchSize : 1;
  return data;
}

function rejectUnexpected(plan: InputPlan, inputs: object): void {
  for (const name of Object.keys(inputs)) {
    if (!plan.inputs.some((i) => i.name === name)) {
      throw new InvalidInputError(`unexpected input '${name}' for model '${plan.model}' (expected ${plan.inputs.map((i) => `'${i.name}'`).join(', ')})`);
    }
  }
}

function shapeMismatch(where: string, shape: readonly unknown[], expected: readonly number[]): never {
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new InvalidInputError(`${where} needs dims as an array of non-negative integers`);
  }
  // onnxruntime reports a tensor whose shape the model does not declare as [] too, so a rank-0 input
  // may in truth take any rank: say how to serve one.
  const hint = expected.length === 0
    ? ' (a scalar; if the model takes another rank, as one that declares no shape can, list the input\'s dims in config.pbtxt)'
    : '';
  throw new InvalidInputError(`${where} has shape [${shape.join(',')}], expected [${expected.join(',')}]${hint}`);
}

/**
 * A typed array on a detached buffer has no data: an InvalidArgumentError (not an empty tensor). Other
 * typed arrays (SharedArrayBuffer and resizable memory included) are copied by the binding during the call,
 * so the caller may reuse, transfer or shrink them as soon as `infer` returns.
 */
function rejectDetached(data: ArrayBufferView, where: string): void {
  if (data.buffer.byteLength === 0 && isDetached(data.buffer)) {
    throw new InvalidArgumentError(`${where}: its data is on a detached ArrayBuffer (transferred or detached before the call)`);
  }
}

/** Whether `buffer` is detached (Node 20 has no `ArrayBuffer.prototype.detached`; a view on it cannot be made). */
function isDetached(buffer: ArrayBufferLike): boolean {
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** What `enqueue` takes besides the tensors, checked: the binding passes these on as uint32/int64. */
export interface NativeOptions {
  priority: number;
  timeoutUs: number;
  /** The request's own latency objective (0: the model's slo_ms). */
  sloUs: number;
  mask: number;
}

/** Largest `priority` (Triton's priority is a uint32). */
export const MAX_PRIORITY = 0xffffffff;
/** Largest `timeoutMs`: the core keeps deadlines in int64 nanoseconds; 2^53 ns (~104 days) stays exact. */
export const MAX_TIMEOUT_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1e6);

/** Checks `InferOptions.priority`, `timeoutMs`, `signal` and `outputs`; a bad option is an InvalidArgumentError (outputs: InvalidInputError). */
export function prepareOptions(config: ModelConfig, options: InferOptions | undefined): NativeOptions {
  const opts = options ?? {};
  const priority = opts.priority ?? 0;
  if (!Number.isSafeInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new InvalidArgumentError(`priority must be an integer in [0, ${MAX_PRIORITY}], got ${String(opts.priority)}`);
  }
  const timeoutMs = opts.timeoutMs ?? 0;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidArgumentError(`timeoutMs must be a number in [0, ${MAX_TIMEOUT_MS}], got ${String(opts.timeoutMs)}`);
  }
  const sloMs = opts.sloMs ?? 0;
  if (typeof sloMs !== 'number' || !(sloMs >= 0) || sloMs > MAX_TIMEOUT_MS) {
    throw new InvalidArgumentError(`sloMs must be a number in [0, ${MAX_TIMEOUT_MS}], got ${String(opts.sloMs)}`);
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${typeof opts.signal === 'object' ? 'another object' : typeof opts.signal}`);
  }
  if (opts.handle !== undefined && (typeof opts.handle !== 'object' || opts.handle === null)) {
    throw new InvalidArgumentError('handle must be an object');
  }

  return { priority, timeoutUs: Math.round(timeoutMs * 1000), sloUs: Math.round(sloMs * 1000), mask: outputMask(config, opts.outputs) };
}

/**
 * Bit mask of the requested outputs. All of them when `names` is undefined or empty: an empty list asks
 * for no output in particular, which Triton and the v2 protocol read as "every output".
 */
export function outputMask(config: ModelConfig, names: readonly string[] | undefined): number {
  if (names === undefined) return -1;
  if (!Array.isArray(names)) throw new InvalidInputError(`outputs must be an array of output names`);
  if (names.length === 0) return -1;
  let mask = 0;
  const seen = new Set<string>();
  for (const name of names) {
    const i = config.output.findIndex((o) => o.name === name);
    if (i < 0) {
      throw new InvalidInputError(`unknown output '${String(name)}' for model '${config.name}' (has ${config.output.map((o) => `'${o.name}'`).join(', ')})`);
    }
    // A repeat would add its bit twice and select another output.
    if (seen.has(name)) throw new InvalidInputError(`output '${name}' of model '${config.name}' is requested more than once`);
    seen.add(name);
    mask += 2 ** i;
  }
  return mask;
}
