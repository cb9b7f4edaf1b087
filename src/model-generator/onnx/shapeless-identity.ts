/**
 * shapeless_identity (test model): `x` FP32 copied to `y`, neither with a declared shape (any rank).
 * onnxruntime reports such a tensor's shape as [], exactly as it reports a scalar's.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export function buildShapelessIdentity(): Uint8Array {
  const g = new GraphBuilder('shapeless_identity');
  const x = g.input('x', OnnxType.FLOAT, undefined);
  g.output('y', OnnxType.FLOAT, undefined);
  g.op('Identity', [x], undefined, 'y');
  return g.encode();
}
