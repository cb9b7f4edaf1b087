/**
 * ModelInferRequest → what `Runtime.infer` takes, and its outputs → ModelInferResponse, by the rules of the
 * Open Inference Protocol v2 gRPC API. Tensor element conversion and validation are the HTTP codec's
 * (src/server/v2-tensor-data.ts), so both protocols accept and reject the same data. Pure functions; every
 * malformed request is an `InvalidInputError` that names the tensor or parameter.
 *
 * Inputs come as `raw_input_contents` (one entry per input, little-endian bytes; BYTES length-prefixed) or
 * as typed `contents` (one field per data type; FP16 has none). Outputs go back as `raw_output_contents`
 * (what Triton answers), or as typed `contents` when the request sets `binary_data_output: false` and no
 * output is FP16.
 */
import type { InferOptions, InferOutputs, Tensor } from '../../api-types.js';
import { dataTypeInfo, isDataType, type DataType, type TensorData } from '../../dtypes.js';
import { InvalidInputError } from '../../errors.js';
import { elementCount, tensorDataFromBinary, tensorDataFromJson, tensorDataToBinary } from '../v2-tensor-data.js';

/** `InferParameter` as decoded: the oneof's member name in `parameter_choice`; 64-bit values as strings. */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: {
    name: string;
    datatype: string;
    shape: string[];
    parameters: Record<string, InferParameter>;
    contents: InferTensorContents | null;
  }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Uint8Array[];
}

export interface InferOutputTensorMessage {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Partial<Record<keyof InferTensorContents, unknown[]>>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensorMessage[];
  raw_output_contents: Uint8Array[];
}

export interface DecodedGrpcInfer {
  inputs: Record<string, Tensor>;
  options: InferOptions;
  /** Requested outputs in order; undefined = every output. */
  outputs?: string[];
  /** Answer with typed contents instead of raw_output_contents. */
  typedOutputs: boolean;
  id: string;
}

/** The typed-contents field of each data type (FP16 has none: raw only). */
const CONTENTS_FIELD: Record<DataType, keyof InferTensorContents | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const CONTENTS_FIELDS = Object.keys({
  bool_contents: 0, int_contents: 0, int64_contents: 0, uint_contents: 0,
  uint64_contents: 0, fp32_contents: 0, fp64_contents: 0, bytes_contents: 0,
} satisfies Record<keyof InferTensorContents, 0>) as (keyof InferTensorContents)[];

/** Triton's shared-memory parameters: serval has no shared-memory regions. */
const SHARED_MEMORY = ['shared_memory_region', 'shared_memory_byte_size', 'shared_memory_offset'];

export function decodeModelInferRequest(req: ModelInferRequest): DecodedGrpcInfer {
  const options: InferOptions = {};
  const priority = integerParameter(req.parameters, 'priority', 'request');
  if (priority !== undefined) options.priority = priority;
  const timeoutUs = integerParameter(req.parameters, 'timeout', 'request');
  if (timeoutUs !== undefined) options.timeoutMs = timeoutUs / 1000;
  const sloMs = numberParameter(req.parameters, 'slo_ms', 'request');
  if (sloMs !== undefined) options.sloMs = sloMs;
  const binaryOutput = boolParameter(req.parameters, 'binary_data_output', 'request');
  const routingKey = req.parameters['routing_key'];
  if (routingKey !== undefined) {
    if (routingKey.parameter_choice !== 'string_param') throw new InvalidInputError(`request: parameter "routing_key" must be a string_param, got ${describe(routingKey)}`);
    options.routingKey = routingKey.string_param ?? '';
  }

  const decoded: DecodedGrpcInfer = { inputs: decodeInputs(req), options, typedOutputs: binaryOutput === false, id: req.id };
  if (req.outputs.length > 0) {
    const seen = new Set<string>();
    decoded.outputs = req.outputs.map((o, i) => {
      if (o.name === '') throw new InvalidInputError(`outputs[${i}]: "name" must be a non-empty string`);
      const what = `output '${o.name}'`;
      if (seen.has(o.name)) throw new InvalidInputError(`${what} is requested more than once`);
      seen.add(o.name);
      rejectSharedMemory(o.parameters, what);
      if (o.parameters['classification'] !== undefined) {
        throw new InvalidInputError(`${what}: the classification extension is not supported`);
      }
      return o.name;
    });
    options.outputs = decoded.outputs;
  }
  return decoded;
}

function decodeInputs(req: ModelInferRequest): Record<string, Tensor> {
  if (req.inputs.length === 0) throw new InvalidInputError('the request has no inputs');
  const raw = req.raw_input_contents;
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw new InvalidInputError(
      `raw_input_contents has ${raw.length} entries, but the request has ${req.inputs.length} inputs: give one entry per input, in order`,
    );
  }
  const inputs: Record<string, Tensor> = {};
  req.inputs.forEach((input, i) => {
    if (input.name === '') throw new InvalidInputError(`inputs[${i}]: "name" must be a non-empty string`);
    const what = `input '${input.name}'`;
    if (Object.hasOwn(inputs, input.name)) throw new InvalidInputError(`${what} appears more than once`);
    if (!isDataType(input.datatype)) throw new InvalidInputError(`${what}: unknown datatype ${JSON.stringify(input.datatype)}`);
    rejectSharedMemory(input.parameters, what);
    const shape = input.shape.map(Number);
    const count = elementCount(shape, what);
    const typed = hasTypedContents(input.contents);
    let data: TensorData;
    if (raw.length > 0) {
      if (typed) throw new InvalidInputError(`${what} has typed contents, but the request uses raw_input_contents: use one or the other`);
      data = fromRaw(input.datatype, raw[i]!, shape, count, what);
    } else {
      data = fromContents(input.datatype, input.contents, count, what);
    }
    inputs[input.name] = { type: input.datatype, dims: shape, data };
  });
  return inputs;
}

function hasTypedContents(c: InferTensorContents | null): boolean {
  return c !== null && CONTENTS_FIELDS.some((f) => c[f].length > 0);
}

function fromRaw(type: DataType, bytes: Uint8Array, shape: number[], count: number, what: string): TensorData {
  const size = dataTypeInfo(type).size;
  if (size > 0 && bytes.byteLength !== count * size) {
    throw new InvalidInputError(
      `${what}: raw_input_contents has ${bytes.byteLength} bytes, but shape ${JSON.stringify(shape)} of ${type} needs ${count * size}`,
    );
  }
  // Each BYTES element takes at least its 4-byte length: a shape beyond that is refused before any allocation.
  if (size === 0 && count * 4 > bytes.byteLength) {
    throw new InvalidInputError(
      `${what}: raw_input_contents has ${bytes.byteLength} bytes, too few for the ${count} BYTES elements of shape ${JSON.stringify(shape)}`,
    );
  }
  // Copies: decoded bytes sit at arbitrary offsets of the message buffer.
  return tensorDataFromBinary(type, bytes, count, what);
}

function fromContents(type: DataType, contents: InferTensorContents | null, count: number, what: string): TensorData {
  const field = CONTENTS_FIELD[type];
  if (field === undefined) {
    throw new InvalidInputError(`${what}: ${type} has no typed contents field: send it in raw_input_contents`);
  }
  const other = contents === null ? undefined : CONTENTS_FIELDS.find((f) => f !== field && contents[f].length > 0);
  if (other !== undefined) {
    throw new InvalidInputError(`${what}: ${type} data goes in contents.${field}, but contents.${other} has ${contents![other].length} elements`);
  }
  const values = contents?.[field] ?? [];
  if (values.length !== count) {
    throw new InvalidInputError(`${what}: the shape needs ${count} elements, but contents.${field} has ${values.length}`);
  }
  switch (type) {
    case 'INT64':
      return BigInt64Array.from(values as string[], BigInt);
    case 'UINT64':
      return BigUint64Array.from(values as string[], BigInt);
    case 'BYTES': {
      const decoder = new TextDecoder();
      return (values as Uint8Array[]).map((b) => decoder.decode(b));
    }
    default:
      return tensorDataFromJson(type, values, what);
  }
}

function rejectSharedMemory(params: Record<string, InferParameter>, what: string): void {
  const used = SHARED_MEMORY.find((k) => params[k] !== undefined);
  if (used) throw new InvalidInputError(`${what}: parameter "${used}": shared-memory tensors are not supported`);
}

function integerParameter(params: Record<string, InferParameter>, key: string, what: string): number | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  const text = p.parameter_choice === 'int64_param' ? p.int64_param : p.parameter_choice === 'uint64_param' ? p.uint64_param : undefined;
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new InvalidInputError(`${what}: parameter "${key}" must be a non-negative int64_param or uint64_param, got ${describe(p)}`);
  }
  return n;
}

/** A non-negative number: double_param, or an integer parameter. */
function numberParameter(params: Record<string, InferParameter>, key: string, what: string): number | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  if (p.parameter_choice === 'double_param') {
    if (!(typeof p.double_param === 'number' && Number.isFinite(p.double_param) && p.double_param >= 0)) {
      throw new InvalidInputError(`${what}: parameter "${key}" must be a non-negative number, got ${describe(p)}`);
    }
    return p.double_param;
  }
  return integerParameter(params, key, what);
}

function boolParameter(params: Record<string, InferParameter>, key: string, what: string): boolean | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  if (p.parameter_choice !== 'bool_param') throw new InvalidInputError(`${what}: parameter "${key}" must be a bool_param, got ${describe(p)}`);
  return p.bool_param === true;
}

function describe(p: InferParameter): string {
  return p.parameter_choice ? `${p.parameter_choice} ${JSON.stringify(p[p.parameter_choice])}` : 'no value';
}

/**
 * @param outputs what `Runtime.infer` returned.
 * @param decoded the request: which outputs in which order, raw or typed.
 */
export function encodeModelInferResponse(
  modelName: string,
  modelVersion: number | string,
  outputs: InferOutputs,
  decoded: Pick<DecodedGrpcInfer, 'outputs' | 'typedOutputs' | 'id'>,
): ModelInferResponse {
  const names = (decoded.outputs ?? Object.keys(outputs)).filter((n) => outputs[n] !== undefined);
  // The protocol allows raw or typed contents for a whole response, not a mix; FP16 has no typed field.
  const typed = decoded.typedOutputs && names.every((n) => CONTENTS_FIELD[outputs[n]!.type] !== undefined);
  const response: ModelInferResponse = {
    model_name: modelName,
    model_version: String(modelVersion),
    id: decoded.id,
    outputs: [],
    raw_output_contents: [],
  };
  for (const name of names) {
    const t = outputs[name]!;
    const message: InferOutputTensorMessage = { name, datatype: t.type, shape: t.dims };
    if (typed) message.contents = { [CONTENTS_FIELD[t.type]!]: typedValues(t.type, t.data) };
    else response.raw_output_contents.push(tensorDataToBinary(t.type, t.data));
    response.outputs.push(message);
  }
  return response;
}

function typedValues(type: DataType, data: TensorData): unknown[] {
  switch (type) {
    case 'BYTES':
      return (data as string[]).map((s) => Buffer.from(s, 'utf8'));
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, (v) => v.toString());
    default:
      return Array.from(data as Float32Array);
  }
}
