/**
 * Tensor element conversion for the Open Inference Protocol v2 codec: JSON `data` arrays and binary
 * tensor segments to serval's `TensorData`, and back. Pure functions; every malformed value is an
 * `InvalidInputError` naming the tensor.
 */
import { allocateTensorData, dataTypeInfo, viewTensorData, type DataType, type TensorData } from '../dtypes.js';
import { InvalidInputError } from '../errors.js';
import { fromHalfBits, toHalfBits } from './fp16.js';
import { JsonInteger, jsonPreview, numericValue } from './v2-json.js';

const BIGINT_RANGE: Partial<Record<DataType, readonly [bigint, bigint]>> = {
  UINT64: [0n, 0xffffffffffffffffn],
  INT64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** Largest finite FP32 and FP16 values. */
const FP32_MAX = 3.4028234663852886e38;
const FP16_MAX = 65504;

/** Number of elements a shape holds; throws on a negative or non-integer dimension. */
export function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new InvalidInputError(`${what}: shape ${shapeText(shape)} must hold non-negative integers`);
    }
    n *= d;
  }
  return n;
}

/**
 * The elements of JSON `data`, flat. The v2 protocol allows `data` flat (row-major) or nested as the
 * shape is (`[[1,2],[3,4]]` for [2,2]); a nested array must follow the shape at every level, so a ragged
 * one (`[[1,2],[3]]`) is rejected rather than read by its total. A flat array is returned as it is (the
 * caller checks its length). A rank-0 tensor (shape []) is a one-element flat array, or the bare value.
 */
export function flattenJsonData(data: unknown, shape: readonly number[], what: string): unknown[] {
  if (!Array.isArray(data)) {
    if (shape.length === 0 && data !== undefined) return [data];
    throw new InvalidInputError(`${what}: "data" must be an array`);
  }
  if (!data.some(Array.isArray)) return data;
  // Depth-first with an explicit stack: a client picks the nesting depth (shape [1,1,...,1]), so no recursion.
  const out: unknown[] = [];
  const stack: Nested[] = [{ v: data, depth: 0, index: 0, parent: undefined }];
  const mismatch = (node: Nested): InvalidInputError => {
    const nested = node.depth < shape.length;
    const found = Array.isArray(node.v) ? (nested ? `, found ${(node.v as unknown[]).length}` : '') : ', found a value';
    return new InvalidInputError(
      `${what}: "data"${nestedPath(node)} does not follow shape ${shapeText(shape)}: ` +
      `${nested ? `expected an array of ${shape[node.depth]} elements` : 'expected a value, found an array'}${found}`,
    );
  };
  while (stack.length > 0) {
    const node = stack.pop()!;
    const items = node.v;
    if (!Array.isArray(items) || items.length !== shape[node.depth]) throw mismatch(node);
    if (node.depth === shape.length - 1) {
      // The innermost level holds most elements: values, copied without a stack entry each.
      for (let i = 0; i < items.length; i++) {
        if (Array.isArray(items[i])) throw mismatch({ v: items[i], depth: node.depth + 1, index: i, parent: node });
        out.push(items[i]);
      }
      continue;
    }
    for (let i = items.length - 1; i >= 0; i--) stack.push({ v: items[i], depth: node.depth + 1, index: i, parent: node });
  }
  return out;
}

interface Nested { v: unknown; depth: number; index: number; parent: Nested | undefined }

/** A client's shape for a message: `[2,3]`, abbreviated past 16 dimensions (a client picks the rank). */
export function shapeText(shape: readonly unknown[]): string {
  if (!shape.every((d) => typeof d === 'number')) return jsonPreview(shape);
  return shape.length > 16 ? `${JSON.stringify(shape.slice(0, 16)).slice(0, -1)},... (${shape.length} dimensions)]` : JSON.stringify(shape);
}

/** `[0][2]` for a nested element (the outermost 8 levels, then `...`). */
function nestedPath(node: Nested): string {
  const indices: number[] = [];
  for (let n: Nested | undefined = node; n?.parent; n = n.parent) indices.push(n.index);
  indices.reverse();
  const shown = indices.slice(0, 8).map((i) => `[${i}]`).join('');
  return indices.length > 8 ? `${shown}...` : shown;
}

/**
 * Thrown by `tensorDataFromJson` when `numbersMayBeRounded` and an INT64/UINT64 element is a number at or
 * beyond 2^53, which `JSON.parse` may have rounded: the caller parses the text again, exactly.
 */
export const ROUNDED_INTEGER: unique symbol = Symbol('a 64-bit integer literal JSON.parse may have rounded');

/**
 * Converts flat JSON values to the typed array (or string array) for `type`. 64-bit integer elements are
 * exact when they arrive as `JsonInteger` (see v2-json.ts) or as numbers below 2^53.
 */
export function tensorDataFromJson(type: DataType, values: readonly unknown[], what: string, numbersMayBeRounded = false): TensorData {
  const n = values.length;
  const bad = (i: number, expected: string): never => {
    throw new InvalidInputError(
      `${what}: element ${i} is ${jsonPreview(values[i])}, expected ${expected} for ${type}`,
    );
  };
  switch (type) {
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') bad(i, 'a string');
        out[i] = v as string;
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = numericValue(values[i]);
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) bad(i, 'true or false');
      }
      return out;
    }
    case 'FP16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = numericValue(values[i]);
        if (typeof v !== 'number') bad(i, 'a number');
        const bits = toHalfBits(v as number);
        // A finite literal that rounds to ±Infinity (|v| >= 65520) is out of range, not silently infinite.
        if ((bits & 0x7fff) === 0x7c00 || !Number.isFinite(v)) bad(i, `a number within ±${FP16_MAX}`);
        out[i] = bits;
      }
      return out;
    }
    case 'FP32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = numericValue(values[i]);
        if (typeof v !== 'number') bad(i, 'a number');
        const f = Math.fround(v as number);
        // JSON has no Infinity or NaN: a non-finite value is a literal beyond the range (1e39, or 1e400).
        if (!Number.isFinite(f)) bad(i, `a number within ±${FP32_MAX}`);
        out[i] = f;
      }
      return out;
    }
    case 'FP64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = numericValue(values[i]);
        if (typeof v !== 'number') bad(i, 'a number');
        if (!Number.isFinite(v)) bad(i, `a number within ±${Number.MAX_VALUE}`);
        out[i] = v as number;
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const [lo, hi] = BIGINT_RANGE[type]!;
      const out = type === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      const signed = type === 'INT64';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'number' && Number.isSafeInteger(v)) {
          // The common case: exact as a double, and within INT64 (UINT64 only needs the sign).
          if (!signed && v < 0) bad(i, `an integer in [${lo}, ${hi}]`);
          out[i] = BigInt(v);
          continue;
        }
        let b: bigint;
        if (v instanceof JsonInteger) b = BigInt(v.digits); // exact: the literal's digits, never a double
        else if (typeof v === 'number' && Number.isInteger(v)) {
          if (numbersMayBeRounded) throw ROUNDED_INTEGER;
          b = BigInt(v);
        } else return bad(i, 'an integer');
        if (b < lo || b > hi) bad(i, `an integer in [${lo}, ${hi}]`);
        out[i] = b;
      }
      return out;
    }
    default: {
      const [lo, hi] = dataTypeInfo(type).range!;
      const out = allocateTensorData(type, n) as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
      for (let i = 0; i < n; i++) {
        const v = numericValue(values[i]);
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'an integer');
        if ((v as number) < lo || (v as number) > hi) bad(i, `an integer in [${lo}, ${hi}]`);
        out[i] = v as number;
      }
      return out;
    }
  }
}

/**
 * The JSON text of `data`'s elements as a flat array. INT64/UINT64 are written digit for digit (no
 * rounding through a double), FP16 as the numbers its bits encode, BOOL as true/false. Non-finite
 * floats have no JSON form and become null.
 */
export function tensorDataToJsonText(type: DataType, data: TensorData): string {
  switch (type) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL':
      return `[${Array.from(data as Uint8Array, (v) => (v !== 0 ? 'true' : 'false')).join(',')}]`;
    case 'FP16':
      return JSON.stringify(Array.from(data as Uint16Array, fromHalfBits));
    case 'INT64':
    case 'UINT64':
      return `[${Array.from(data as BigInt64Array, (v) => v.toString()).join(',')}]`;
    default:
      return numbersToJson(data as Float32Array);
  }
}

/** A JSON array of numbers, as JSON.stringify writes them (non-finite values as null), without an Array copy. */
function numbersToJson(data: ArrayLike<number>): string {
  let out = '[';
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (i > 0) out += ',';
    out += Number.isFinite(v) ? (Object.is(v, -0) ? '0' : String(v)) : 'null';
  }
  return `${out}]`;
}

/**
 * Decodes one binary tensor segment. The bytes are copied into a fresh buffer first: a segment can
 * start at any offset of the request body, and typed arrays need aligned offsets. Fixed-width types
 * are little-endian, row-major; BYTES elements are a 4-byte little-endian length and then the bytes.
 */
export function tensorDataFromBinary(type: DataType, segment: Uint8Array, count: number, what: string): TensorData {
  if (type === 'BYTES') return bytesFromBinary(segment, count, what);
  const size = dataTypeInfo(type).size;
  if (segment.byteLength !== count * size) {
    throw new InvalidInputError(
      `${what}: binary_data_size is ${segment.byteLength} bytes, but shape and ${type} need ${count * size}`,
    );
  }
  const copy = new Uint8Array(segment.byteLength);
  copy.set(segment);
  if (type === 'BOOL') {
    for (let i = 0; i < copy.length; i++) {
      if (copy[i]! > 1) throw new InvalidInputError(`${what}: BOOL element ${i} is byte ${copy[i]}, expected 0 or 1`);
    }
  }
  return viewTensorData(type, copy.buffer, 0, copy.byteLength);
}

function bytesFromBinary(segment: Uint8Array, count: number, what: string): string[] {
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  const out = new Array<string>(count);
  const decoder = new TextDecoder();
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > segment.byteLength) {
      throw new InvalidInputError(`${what}: binary BYTES data ends before element ${i} of ${count}`);
    }
    const len = view.getUint32(off, true);
    off += 4;
    if (off + len > segment.byteLength) {
      throw new InvalidInputError(`${what}: binary BYTES element ${i} claims ${len} bytes past the end of its data`);
    }
    out[i] = decoder.decode(segment.subarray(off, off + len));
    off += len;
  }
  if (off !== segment.byteLength) {
    throw new InvalidInputError(
      `${what}: binary BYTES data has ${segment.byteLength - off} bytes left over after ${count} elements`,
    );
  }
  return out;
}

/** Raw little-endian bytes of `data` for a binary response (BYTES: length-prefixed UTF-8 per element). */
export function tensorDataToBinary(type: DataType, data: TensorData): Uint8Array {
  if (type !== 'BYTES') {
    const view = data as Exclude<TensorData, string[]>;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  const encoded = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.allocUnsafe(encoded.reduce((n, b) => n + 4 + b.length, 0));
  let off = 0;
  for (const b of encoded) {
    out.writeUInt32LE(b.length, off);
    b.copy(out, off + 4);
    off += 4 + b.length;
  }
  return out;
}
