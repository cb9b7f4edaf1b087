/**
 * Tensor data types: one table that maps between the names each layer uses.
 *
 * - `DataType` is the Open Inference Protocol v2 name (`FP32`, `BYTES`, ...) and is serval's canonical name.
 * - config.pbtxt uses Triton's `TYPE_*` names (`TYPE_FP32`, `TYPE_STRING`).
 * - onnxruntime-node uses its own tensor type strings (`float32`, `string`).
 * - The native core identifies a type by a small integer code (`nativeCode`), shared with native/core/dtype.h.
 */

export type DataType =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

export type OrtType =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float16' | 'float32' | 'float64' | 'string';

/** The typed array (or string array) that carries each data type's elements in JavaScript. */
export type TensorData =
  | Float32Array | Float64Array | Uint16Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint32Array | BigUint64Array | string[];

/** The JavaScript container of a fixed-width type's elements. */
type TypedArrayCtor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor
  | Uint32ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

interface DataTypeInfo {
  readonly name: DataType;
  readonly triton: string;
  readonly ort: OrtType;
  /** Bytes per element; 0 for BYTES (variable length). */
  readonly size: number;
  /** Code shared with native/core/dtype.h (SERVAL_DTYPES). */
  readonly nativeCode: number;
  /** The typed array that holds the elements; undefined for BYTES (a string array). */
  readonly array: TypedArrayCtor | undefined;
  /** The constructor's name, as `dataMatchesType` compares (typed arrays from another realm included). */
  readonly arrayType: string;
  /** Smallest and largest value of an integer type that fits a JavaScript number; undefined otherwise. */
  readonly range: readonly [number, number] | undefined;
}

/** One row per data type: adding a type is a row here and a row in native/core/dtype.h. */
const ROWS = [
  ['BOOL', 'TYPE_BOOL', 'bool', 1, 1, Uint8Array, [0, 1]],
  ['UINT8', 'TYPE_UINT8', 'uint8', 1, 2, Uint8Array, [0, 0xff]],
  ['UINT16', 'TYPE_UINT16', 'uint16', 2, 3, Uint16Array, [0, 0xffff]],
  ['UINT32', 'TYPE_UINT32', 'uint32', 4, 4, Uint32Array, [0, 0xffffffff]],
  ['UINT64', 'TYPE_UINT64', 'uint64', 8, 5, BigUint64Array, undefined],
  ['INT8', 'TYPE_INT8', 'int8', 1, 6, Int8Array, [-0x80, 0x7f]],
  ['INT16', 'TYPE_INT16', 'int16', 2, 7, Int16Array, [-0x8000, 0x7fff]],
  ['INT32', 'TYPE_INT32', 'int32', 4, 8, Int32Array, [-0x80000000, 0x7fffffff]],
  ['INT64', 'TYPE_INT64', 'int64', 8, 9, BigInt64Array, undefined],
  ['FP16', 'TYPE_FP16', 'float16', 2, 10, Uint16Array, undefined],
  ['FP32', 'TYPE_FP32', 'float32', 4, 11, Float32Array, undefined],
  ['FP64', 'TYPE_FP64', 'float64', 8, 12, Float64Array, undefined],
  ['BYTES', 'TYPE_STRING', 'string', 0, 13, undefined, undefined],
] as const satisfies readonly (readonly [DataType, string, OrtType, number, number, TypedArrayCtor | undefined, readonly [number, number] | undefined])[];

const TABLE: readonly DataTypeInfo[] = ROWS.map(([name, triton, ort, size, nativeCode, array, range]) => ({
  name, triton, ort, size, nativeCode, array, arrayType: array?.name ?? 'Array', range,
}));

const BY_NAME = new Map(TABLE.map((t) => [t.name, t]));
const BY_TRITON = new Map(TABLE.map((t) => [t.triton, t]));
const BY_ORT = new Map(TABLE.map((t) => [t.ort, t]));

export const DATA_TYPES: readonly DataType[] = TABLE.map((t) => t.name);

export function dataTypeInfo(name: DataType): DataTypeInfo {
  const info = BY_NAME.get(name);
  if (!info) throw new TypeError(`unknown data type ${String(name)}`);
  return info;
}

export function isDataType(name: unknown): name is DataType {
  return typeof name === 'string' && BY_NAME.has(name as DataType);
}

/** `TYPE_FP32` → `FP32`; undefined when the name is not a Triton type. */
export function fromTritonType(name: string): DataType | undefined {
  return BY_TRITON.get(name)?.name;
}

export function toTritonType(name: DataType): string {
  return dataTypeInfo(name).triton;
}

/** `float32` → `FP32`; undefined when onnxruntime reports a type serval does not serve. */
export function fromOrtType(name: string): DataType | undefined {
  return BY_ORT.get(name as OrtType)?.name;
}

export function toOrtType(name: DataType): OrtType {
  return dataTypeInfo(name).ort;
}

/** Allocates the typed array that holds `count` elements of `type` (an empty string array for BYTES). */
export function allocateTensorData(type: DataType, count: number): TensorData {
  const Array_ = dataTypeInfo(type).array;
  return Array_ ? new Array_(count) : new Array<string>(count).fill('');
}

/** Whether `data` is the JavaScript container serval uses for `type`. */
export function dataMatchesType(type: DataType, data: unknown): boolean {
  if (type === 'BYTES') return Array.isArray(data);
  const want = dataTypeInfo(type).arrayType;
  return ArrayBuffer.isView(data) && (data as object).constructor.name === want;
}

/** Wraps `byteLength` bytes of `buffer` at `byteOffset` in the typed array for `type` (no copy). */
export function viewTensorData(type: DataType, buffer: ArrayBufferLike, byteOffset: number, byteLength: number): TensorData {
  const { array, size } = dataTypeInfo(type);
  if (!array) throw new TypeError('BYTES tensors have no fixed-width view');
  // Every constructor in the table takes (buffer, byteOffset, length); the union does not type-check as one.
  return new (array as Uint8ArrayConstructor)(buffer as ArrayBuffer, byteOffset, byteLength / size) as TensorData;
}

const BY_CODE: readonly (DataTypeInfo | undefined)[] = (() => {
  const out: (DataTypeInfo | undefined)[] = [];
  for (const t of TABLE) out[t.nativeCode] = t;
  return out;
})();

/** The type with native code `code` (native/core/dtype.h); undefined for a code no row has. */
export function dataTypeByCode(code: number): DataTypeInfo | undefined {
  return BY_CODE[code];
}

const UTF8 = new TextDecoder();

/** Decodes `count` elements of the core's BYTES layout (4-byte little-endian length, then UTF-8) from `bytes`. */
export function decodeLengthPrefixed(bytes: Uint8Array, count: number): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const len = off + 4 <= bytes.byteLength ? view.getUint32(off, true) : 0;
    off += 4;
    out[i] = UTF8.decode(bytes.subarray(off, Math.min(off + len, bytes.byteLength)));
    off += len;
  }
  return out;
}
