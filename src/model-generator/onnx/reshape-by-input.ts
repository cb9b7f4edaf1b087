/**
 * reshape_by_input (test model): `data` FP32 [n] reshaped to the shape given by the `shape` INT64 [2] input
 * (`reshaped` FP32 [a, b]). An all-zero `shape` is invalid for it (Reshape copies dimension i of `data` for
 * a 0, and `data` has no dimension 1), so a zero-filled warmup fails while real requests succeed.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export function buildReshapeByInput(): Uint8Array {
  const g = new GraphBuilder('reshape_by_input');
  const data = g.input('data', OnnxType.FLOAT, ['n']);
  const shape = g.input('shape', OnnxType.INT64, [2]);
  g.output('reshaped', OnnxType.FLOAT, ['a', 'b']);
  g.op('Reshape', [data, shape], undefined, 'reshaped');
  return g.encode();
}
