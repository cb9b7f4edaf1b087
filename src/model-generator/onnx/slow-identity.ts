/**
 * slow_identity (test fixture): x FP32 [batch, 4] → y FP32 [batch, 4] with y == x, but each run costs a few
 * milliseconds whatever the batch size, so batching and queue-timeout tests have something to wait for.
 *
 * The cost: mean(x) is expanded to a SIZE x SIZE matrix and multiplied MATMULS times by a constant averaging
 * matrix (which keeps the values bounded); the result is reduced, multiplied by 0 and added to x. It depends on
 * the input, so ONNX Runtime cannot fold it away at load time.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

const SIZE = 512;
const MATMULS = 4;

export function buildSlowIdentity(): Uint8Array {
  const g = new GraphBuilder('slow_identity');
  const x = g.input('x', OnnxType.FLOAT, ['batch', 4]);
  g.output('y', OnnxType.FLOAT, ['batch', 4]);

  const mean = g.op('ReduceMean', [x], { keepdims: { int: 1 } });
  const square = g.int64s('square', [SIZE, SIZE]);
  let m = g.op('Expand', [mean, square]);
  // Built from a scalar at load time (constant-folded) rather than stored: keeps the file small.
  const averaging = g.op('Expand', [g.floats('one_over_size', [1], [1 / SIZE]), square]);
  for (let i = 0; i < MATMULS; i++) m = g.op('MatMul', [m, averaging]);
  const zero = g.floats('zero', [1], [0]);
  const nothing = g.op('Mul', [g.op('ReduceMean', [m], { keepdims: { int: 1 } }), zero]);
  g.op('Add', [x, nothing], undefined, 'y');
  return g.encode();
}
