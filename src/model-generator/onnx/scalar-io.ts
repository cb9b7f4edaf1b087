/**
 * scalar_io (test model): rank-0 (scalar) inputs and outputs, as the v2 protocol's `shape: []` carries them.
 * `offset` FP32 [] is added to `values` FP32 [3] (`shifted` [3]); `total` FP32 [] sums `values`; `count`
 * INT64 [] is copied to `count_out` INT64 []. The model does not batch (no dimension is variable).
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export function buildScalarIo(): Uint8Array {
  const g = new GraphBuilder('scalar_io');
  const offset = g.input('offset', OnnxType.FLOAT, []);
  const values = g.input('values', OnnxType.FLOAT, [3]);
  const count = g.input('count', OnnxType.INT64, []);
  g.output('shifted', OnnxType.FLOAT, [3]);
  g.output('total', OnnxType.FLOAT, []);
  g.output('count_out', OnnxType.INT64, []);
  g.op('Add', [values, offset], undefined, 'shifted');
  g.op('ReduceSum', [values], { keepdims: { int: 0 } }, 'total');
  g.op('Identity', [count], undefined, 'count_out');
  return g.encode();
}
