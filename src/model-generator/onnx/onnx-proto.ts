/**
 * Encodes an ONNX model (ModelProto and the messages under it) from plain objects, by the field numbers of
 * onnx/onnx.proto. Only the fields serval's generated models use are written.
 */
import { ProtoWriter } from './protobuf-writer.js';

/** TensorProto.DataType values. */
export const OnnxType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
} as const;
export type OnnxType = (typeof OnnxType)[keyof typeof OnnxType];

/** An initializer or attribute tensor. FLOAT tensors carry `floats`, INT64 tensors carry `int64s`. */
export interface TensorSpec {
  name: string;
  dims: readonly number[];
  dataType: typeof OnnxType.FLOAT | typeof OnnxType.INT64;
  floats?: ArrayLike<number>;
  int64s?: readonly (number | bigint)[];
}

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { string: string }
  | { tensor: TensorSpec };

export interface NodeSpec {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
}

/**
 * A graph input or output. A string dimension is symbolic (dim_param), a number is fixed (dim_value); an
 * absent shape declares none (any rank).
 */
export interface ValueInfoSpec {
  name: string;
  elemType: OnnxType;
  shape: readonly (number | string)[] | undefined;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
}

export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

// AttributeProto.AttributeType values.
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_INTS = 7;

export function encodeModel(graph: GraphSpec): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, IR_VERSION); // ir_version
  w.string(2, 'serval-models'); // producer_name
  w.string(3, '1'); // producer_version
  w.message(7, (g) => writeGraph(g, graph)); // graph
  w.message(8, (o) => o.string(1, '').varint(2, OPSET_VERSION)); // opset_import { domain: "" version }
  return w.finish();
}

function writeGraph(w: ProtoWriter, graph: GraphSpec): void {
  for (const node of graph.nodes) w.message(1, (n) => writeNode(n, node));
  w.string(2, graph.name);
  for (const t of graph.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of graph.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

function writeNode(w: ProtoWriter, node: NodeSpec): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, (a) => writeAttribute(a, name, value));
  }
}

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue): void {
  w.string(1, name);
  if ('int' in value) w.varint(3, value.int).varint(20, ATTR_INT);
  else if ('float' in value) w.float(2, value.float).varint(20, ATTR_FLOAT);
  else if ('ints' in value) w.packedVarints(8, value.ints).varint(20, ATTR_INTS);
  else if ('string' in value) w.string(4, value.string).varint(20, ATTR_STRING);
  else w.message(5, (t) => writeTensor(t, value.tensor)).varint(20, ATTR_TENSOR);
}

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const data = t.dataType === OnnxType.FLOAT ? t.floats : t.int64s;
  if (!data || data.length !== count) {
    throw new Error(`tensor ${t.name}: expected ${count} values for dims [${t.dims.join(',')}]`);
  }
  w.packedVarints(1, t.dims); // dims
  w.varint(2, t.dataType); // data_type
  if (t.dataType === OnnxType.FLOAT) w.packedFloats(4, t.floats!); // float_data
  else w.packedVarints(7, t.int64s!); // int64_data
  w.string(8, t.name); // name
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoSpec): void {
  w.string(1, v.name);
  // type { tensor_type { elem_type shape { dim { dim_value | dim_param } } } }
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.varint(1, v.elemType);
    if (v.shape === undefined) return; // no shape at all: any rank (not the same as rank 0, shape [])
    tensor.message(2, (shape) => {
      for (const d of v.shape!) {
        shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.varint(1, d)));
      }
    });
  }));
}
