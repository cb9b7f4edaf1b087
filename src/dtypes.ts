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

interface DataTypeInfo {
  readonly name: DataType;
  readonly triton: string;
  readonly ort: OrtType;
  /** Bytes per element; 0 for BYTES (variable length). */
  readonly size: number;
  /** Code shared with native/core/dtype.h. */
  readonly nativeCode: number;
  readonly arrayType: string;
}

const TABLE: readonly DataTypeInfo[] = [
  { name: 'BOOL', triton: 'TYPE_BOOL', ort: 'bool', size: 1, nativeCode: 1, arrayType: 'Uint8Array' },
  { name: 'UINT8', triton: 'TYPE_UINT8', ort: 'uint8', size: 1, nativeCode: 2, arrayType: 'Uint8Array' },
  { name: 'UINT16', triton: 'TYPE_UINT16', ort: 'uint16', size: 2, nativeCode: 3, arrayType: 'Uint16Array' },
  { name: 'UINT32', triton: 'TYPE_UINT32', ort: 'uint32', size: 4, nativeCode: 4, arrayType: 'Uint32Array' },
  { name: 'UINT64', triton: 'TYPE_UINT64', ort: 'uint64', size: 8, nativeCode: 5, arrayType: 'BigUint64Array' },
  { name: 'INT8', triton: 'TYPE_INT8', ort: 'int8', size: 1, nativeCode: 6, arrayType: 'Int8Array' },
  { name: 'INT16', triton: 'TYPE_INT16', ort: 'int16', size: 2, nativeCode: 7, arrayType: 'Int16Array' },
  { name: 'INT32', triton: 'TYPE_INT32', ort: 'int32', size: 4, nativeCode: 8, arrayType: 'Int32Array' },
  { name: 'INT64', triton: 'TYPE_INT64', ort: 'int64', size: 8, nativeCode: 9, arrayType: 'BigInt64Array' },
  { name: 'FP16', triton: 'TYPE_FP16', ort: 'float16', size: 2, nativeCode: 10, arrayType: 'Uint16Array' },
  { name: 'FP32', triton: 'TYPE_FP32', ort: 'float32', size: 4, nativeCode: 11, arrayType: 'Float32Array' },
  { name: 'FP64', triton: 'TYPE_FP64', ort: 'float64', size: 8, nativeCode: 12, arrayType: 'Float64Array' },
  { name: 'BYTES', triton: 'TYPE_STRING', ort: 'string', size: 0, nativeCode: 13, arrayType: 'Array' },
];

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
  switch (type) {
    case 'BOOL': case 'UINT8': return new Uint8Array(count);
    case 'UINT16': case 'FP16': return new Uint16Array(count);
    case 'UINT32': return new Uint32Array(count);
    case 'UINT64': return new BigUint64Array(count);
    case 'INT8': return new Int8Array(count);
    case 'INT16': return new Int16Array(count);
    case 'INT32': return new Int32Array(count);
    case 'INT64': return new BigInt64Array(count);
    case 'FP32': return new Float32Array(count);
    case 'FP64': return new Float64Array(count);
    case 'BYTES': return new Array<string>(count).fill('');
  }
}

/** Whether `data` is the JavaScript container serval uses for `type`. */
export function dataMatchesType(type: DataType, data: unknown): boolean {
  if (type === 'BYTES') return Array.isArray(data);
  const want = dataTypeInfo(type).arrayType;
  return ArrayBuffer.isView(data) && (data as object).constructor.name === want;
}

/** Wraps `byteLength` bytes of `buffer` at `byteOffset` in the typed array for `type` (no copy). */
export function viewTensorData(type: DataType, buffer: ArrayBufferLike, byteOffset: number, byteLength: number): TensorData {
  const size = dataTypeInfo(type).size;
  const n = size === 0 ? 0 : byteLength / size;
  switch (type) {
    case 'BYTES': throw new TypeError('BYTES tensors have no fixed-width view');
    case 'BOOL': case 'UINT8': return new Uint8Array(buffer, byteOffset, n);
    case 'UINT16': case 'FP16': return new Uint16Array(buffer, byteOffset, n);
    case 'UINT32': return new Uint32Array(buffer, byteOffset, n);
    case 'UINT64': return new BigUint64Array(buffer, byteOffset, n);
    case 'INT8': return new Int8Array(buffer, byteOffset, n);
    case 'INT16': return new Int16Array(buffer, byteOffset, n);
    case 'INT32': return new Int32Array(buffer, byteOffset, n);
    case 'INT64': return new BigInt64Array(buffer, byteOffset, n);
    case 'FP32': return new Float32Array(buffer, byteOffset, n);
    case 'FP64': return new Float64Array(buffer, byteOffset, n);
  }
}
