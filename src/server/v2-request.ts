/**
 * Decodes an Open Inference Protocol v2 inference request: the JSON body, or the JSON header plus
 * binary tensor segments of the binary data extension (`Inference-Header-Content-Length`). Pure: the
 * result is what `Runtime.infer` takes plus what the response encoder needs to know.
 */
import type { InferOptions, Tensor, TensorMetadata } from '../api-types.js';
import { dataTypeInfo, isDataType, type DataType } from '../dtypes.js';
import { InvalidInputError } from '../errors.js';
import { MAX_PRIORITY, MAX_TIMEOUT_MS } from '../model/input-validation.js';
import { JsonInteger, jsonPreview, parseJsonExact } from './v2-json.js';
import {
  elementCount,
  flattenJsonData,
  ROUNDED_INTEGER,
  shapeText,
  tensorDataFromBinary,
  tensorDataFromJson,
} from './v2-tensor-data.js';

/** How the client wants outputs back. */
export interface ResponsePlan {
  /** Echoed in the response when the request had one. */
  id?: string;
  /** Outputs in the order asked for, each with its binary flag; undefined = all outputs. */
  outputs?: { name: string; binary: boolean }[];
  /** Request-level `parameters.binary_data_output` (outputs not listed, or listed without `binary_data`). */
  binaryDefault: boolean;
}

export interface DecodedInferRequest {
  inputs: Record<string, Tensor>;
  options: InferOptions;
  plan: ResponsePlan;
  /** `parameters.explain: true`: answer with the prediction's explanation too (src/explain/explain-route.ts). */
  explain?: boolean;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a JSON request body (or header); malformed text is an `InvalidInputError`. With `exact`, integer
 * literals of 16+ digits come back as `JsonInteger` (their digits), see v2-json.ts.
 */
export function parseJsonObject(text: Buffer | string, what = 'request body', exact = false): Json {
  let value: unknown;
  try {
    const source = typeof text === 'string' ? text : text.toString('utf8');
    value = exact ? parseJsonExact(source) : JSON.parse(source);
  } catch (err) {
    throw new InvalidInputError(`malformed JSON in ${what}: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new InvalidInputError(`${what} must be a JSON object`);
  return value;
}

function optionalParameters(obj: Json, what: string): Json {
  const p = obj['parameters'];
  if (p === undefined) return {};
  if (!isObject(p)) throw new InvalidInputError(`${what}: "parameters" must be an object`);
  return p;
}

/** Largest `parameters.timeout` (microseconds): the embedded API's bound on `timeoutMs`. */
const MAX_TIMEOUT_US = MAX_TIMEOUT_MS * 1000;

function optionalInteger(params: Json, key: string, what: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new InvalidInputError(
      `${what}: parameter "${key}" must be an integer in [0, ${max}], got ${jsonPreview(v)}`,
    );
  }
  return v;
}

function optionalNonNegativeNumber(params: Json, key: string, what: string): number | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidInputError(`${what}: parameter "${key}" must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalBoolean(params: Json, key: string, what: string): boolean | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new InvalidInputError(`${what}: parameter "${key}" must be true or false`);
  return v;
}

/**
 * Reads `Inference-Header-Content-Length`. Returns undefined when the header is absent (pure JSON body).
 */
export function parseHeaderLength(header: string | undefined, bodyLength: number): number | undefined {
  if (header === undefined || header === '') return undefined;
  if (!/^\d+$/.test(header.trim())) {
    throw new InvalidInputError(`Inference-Header-Content-Length must be a byte count, got "${header}"`);
  }
  const n = Number(header.trim());
  if (n > bodyLength) {
    throw new InvalidInputError(`Inference-Header-Content-Length is ${n}, but the body has only ${bodyLength} bytes`);
  }
  return n;
}

/**
 * Decodes an inference request body.
 *
 * @param headerLength the parsed `Inference-Header-Content-Length` (undefined: the body is all JSON;
 *   0: the body is the raw bytes of the model's single input, which `rawInput` describes).
 * @param rawInput the model's only input, asked for only when `headerLength` is 0.
 */
export function decodeInferRequest(
  body: Buffer,
  headerLength: number | undefined,
  rawInput?: () => TensorMetadata,
): DecodedInferRequest {
  if (headerLength === 0) {
    if (!rawInput) throw new InvalidInputError('a raw binary request needs the model metadata');
    return decodeRawBinaryRequest(body, rawInput());
  }
  const jsonPart = headerLength === undefined ? body : body.subarray(0, headerLength);
  const binary = headerLength === undefined ? undefined : body.subarray(headerLength);
  // JSON.parse first (the fast path for float bodies); a 64-bit element it may have rounded (>= 2^53)
  // sends the body through the exact parser, which reads such literals digit for digit.
  try {
    return decodeJsonRequest(jsonPart, binary, headerLength === undefined ? 'request body' : 'inference header', false);
  } catch (err) {
    if (err !== ROUNDED_INTEGER) throw err;
    return decodeJsonRequest(jsonPart, binary, headerLength === undefined ? 'request body' : 'inference header', true);
  }
}

function decodeJsonRequest(jsonPart: Buffer, binary: Buffer | undefined, what: string, exact: boolean): DecodedInferRequest {
  const req = parseJsonObject(jsonPart, what, exact);

  const id = req['id'];
  if (id !== undefined && typeof id !== 'string') throw new InvalidInputError('request "id" must be a string');
  const params = optionalParameters(req, 'request');
  const options: InferOptions = {};
  const priority = optionalInteger(params, 'priority', 'request', MAX_PRIORITY);
  if (priority !== undefined) options.priority = priority;
  const timeoutUs = optionalInteger(params, 'timeout', 'request', MAX_TIMEOUT_US);
  if (timeoutUs !== undefined) options.timeoutMs = timeoutUs / 1000;
  const sloMs = optionalNonNegativeNumber(params, 'slo_ms', 'request');
  if (sloMs !== undefined) options.sloMs = sloMs;
  const binaryDefault = optionalBoolean(params, 'binary_data_output', 'request') ?? false;
  const routingKey = params['routing_key'];
  if (routingKey !== undefined) {
    if (typeof routingKey !== 'string') throw new InvalidInputError(`request: parameter "routing_key" must be a string, got ${jsonPreview(routingKey)}`);
    options.routingKey = routingKey;
  }

  const inputs = decodeInputs(req['inputs'], binary, exact);
  const plan: ResponsePlan = { binaryDefault };
  if (id !== undefined) plan.id = id;
  // The v2 spec: without "outputs" every output is returned with default settings. Triton reads an
  // empty list the same way (no output requested = all of them), and so does serval.
  const outputs = req['outputs'] === undefined ? [] : decodeOutputRequests(req['outputs'], binaryDefault);
  if (outputs.length > 0) {
    plan.outputs = outputs;
    options.outputs = outputs.map((o) => o.name);
  }
  const explain = optionalBoolean(params, 'explain', 'request');
  return explain ? { inputs, options, plan, explain } : { inputs, options, plan };
}

function decodeInputs(raw: unknown, binary: Buffer | undefined, exact: boolean): Record<string, Tensor> {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new InvalidInputError('request "inputs" must be a non-empty array');
  }
  const inputs: Record<string, Tensor> = {};
  let offset = 0;
  for (const [i, item] of raw.entries()) {
    if (!isObject(item)) throw new InvalidInputError(`inputs[${i}] must be an object`);
    const name = item['name'];
    if (typeof name !== 'string' || name === '') throw new InvalidInputError(`inputs[${i}]: "name" must be a non-empty string`);
    const what = `input '${name}'`;
    if (Object.hasOwn(inputs, name)) throw new InvalidInputError(`${what} appears more than once`);
    const datatype = item['datatype'];
    if (!isDataType(datatype)) {
      throw new InvalidInputError(`${what}: unknown datatype ${jsonPreview(datatype)}`);
    }
    const shape = item['shape'];
    if (!Array.isArray(shape)) throw new InvalidInputError(`${what}: "shape" must be an array of integers`);
    if (shape.some((d) => d instanceof JsonInteger)) {
      throw new InvalidInputError(`${what}: shape ${shapeText(shape)} must hold non-negative integers below 2^53`);
    }
    const count = elementCount(shape as number[], what);
    const binarySize = optionalInteger(optionalParameters(item, what), 'binary_data_size', what);

    if (binarySize !== undefined) {
      if (item['data'] !== undefined) throw new InvalidInputError(`${what} has both "data" and binary_data_size`);
      if (binary === undefined) {
        throw new InvalidInputError(`${what} has binary_data_size but the request has no Inference-Header-Content-Length header`);
      }
      if (offset + binarySize > binary.byteLength) {
        throw new InvalidInputError(
          `${what}: binary_data_size ${binarySize} runs past the end of the binary data (${binary.byteLength - offset} bytes left)`,
        );
      }
      const data = tensorDataFromBinary(datatype, binary.subarray(offset, offset + binarySize), count, what);
      offset += binarySize;
      inputs[name] = { type: datatype, dims: shape as number[], data };
      continue;
    }
    if (item['data'] === undefined) throw new InvalidInputError(`${what} has neither "data" nor binary_data_size`);
    const values = flattenJsonData(item['data'], shape as number[], what);
    if (values.length !== count) {
      throw new InvalidInputError(
        `${what}: shape ${shapeText(shape)} needs ${count} elements, but "data" has ${values.length}`,
      );
    }
    inputs[name] = { type: datatype, dims: shape as number[], data: tensorDataFromJson(datatype, values, what, !exact) };
  }
  if (binary !== undefined && offset !== binary.byteLength) {
    throw new InvalidInputError(
      `the body has ${binary.byteLength - offset} bytes of binary data that no input's binary_data_size accounts for`,
    );
  }
  return inputs;
}

function decodeOutputRequests(raw: unknown, binaryDefault: boolean): { name: string; binary: boolean }[] {
  if (!Array.isArray(raw)) throw new InvalidInputError('request "outputs" must be an array');
  const seen = new Set<string>();
  return raw.map((item, i) => {
    if (!isObject(item)) throw new InvalidInputError(`outputs[${i}] must be an object`);
    const name = item['name'];
    if (typeof name !== 'string' || name === '') throw new InvalidInputError(`outputs[${i}]: "name" must be a non-empty string`);
    const what = `output '${name}'`;
    if (seen.has(name)) throw new InvalidInputError(`${what} is requested more than once`);
    seen.add(name);
    const params = optionalParameters(item, what);
    if (params['classification'] !== undefined) {
      throw new InvalidInputError(`${what}: the classification extension is not supported`);
    }
    return { name, binary: optionalBoolean(params, 'binary_data', what) ?? binaryDefault };
  });
}

/**
 * A raw binary request (`Inference-Header-Content-Length: 0`): the body is the bytes of the model's
 * only input, batch 1. Variable dimensions other than the last are taken as 1; the last one is
 * whatever the byte count implies. All outputs come back binary.
 */
function decodeRawBinaryRequest(body: Buffer, meta: TensorMetadata): DecodedInferRequest {
  const what = `raw binary input '${meta.name}'`;
  const shape = meta.shape.slice();
  const variable = shape.flatMap((d, i) => (d < 0 ? [i] : []));
  const last = variable.pop();
  for (const i of variable) shape[i] = 1;
  const fixed = shape.reduce((n, d) => (d < 0 ? n : n * d), 1);
  const total = meta.datatype === 'BYTES' ? countLengthPrefixed(body) : body.byteLength / elementSize(meta.datatype);
  if (last !== undefined) {
    if (fixed === 0 || !Number.isInteger(total / fixed)) {
      throw new InvalidInputError(`${what}: ${body.byteLength} bytes do not fill shape ${JSON.stringify(meta.shape)}`);
    }
    shape[last] = total / fixed;
  }
  const data = tensorDataFromBinary(meta.datatype, body, elementCount(shape, what), what);
  return {
    inputs: { [meta.name]: { type: meta.datatype, dims: shape, data } },
    options: {},
    plan: { binaryDefault: true },
  };
}

function elementSize(type: DataType): number {
  return dataTypeInfo(type).size;
}

/** Number of length-prefixed BYTES elements in `buf` (a malformed tail is left to the full decoder). */
function countLengthPrefixed(buf: Buffer): number {
  let n = 0;
  for (let off = 0; off + 4 <= buf.byteLength; n++) off += 4 + buf.readUInt32LE(off);
  return n;
}
