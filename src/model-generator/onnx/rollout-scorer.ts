/**
 * rollout_scorer (bench and test model for rollouts): x FP32 [batch, 4] → y FP32 [batch, 4] = x * scale + shift.
 * Versions built with different options make the candidates of a rollout scenario:
 * - `shift`: outputs that drift from another version's on the same inputs;
 * - `failAtOrAbove`: onnxruntime fails the batch when any row's x[0] >= this (a Gather whose index is
 *   trunc(x[0]) into a table of that many zeros), a candidate that errors on some inputs;
 * - `workSize`: a SIZE x SIZE matrix product per run that depends on the input (as in slow_identity), a slower candidate.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export interface RolloutScorerOptions {
  /** @default 0.5 */
  scale?: number;
  /** @default 0 */
  shift?: number;
  failAtOrAbove?: number;
  /** Side of the extra matrix product (0: none). @default 0 */
  workSize?: number;
}

const WIDTH = 4;

export function buildRolloutScorer(o: RolloutScorerOptions = {}): Uint8Array {
  const g = new GraphBuilder('rollout_scorer');
  const x = g.input('x', OnnxType.FLOAT, ['batch', WIDTH]);
  g.output('y', OnnxType.FLOAT, ['batch', WIDTH]);
  let y = g.op('Add', [g.op('Mul', [x, g.floats('scale', [1], [o.scale ?? 0.5])]), g.floats('shift', [1], [o.shift ?? 0])]);
  if (o.failAtOrAbove !== undefined) {
    const first = g.op('Slice', [x, g.int64s('starts', [0]), g.int64s('ends', [1]), g.int64s('axes', [1])]);
    const index = g.op('Cast', [first], { to: { int: OnnxType.INT64 } });
    const table = g.floats('zeros', [o.failAtOrAbove], new Float32Array(o.failAtOrAbove));
    y = g.op('Add', [y, g.op('Gather', [table, index], { axis: { int: 0 } })]);
  }
  if (o.workSize) {
    const square = g.int64s('square', [o.workSize, o.workSize]);
    let m = g.op('Expand', [g.op('ReduceMean', [x], { keepdims: { int: 1 } }), square]);
    const averaging = g.op('Expand', [g.floats('one_over_size', [1], [1 / o.workSize]), square]);
    for (let i = 0; i < 3; i++) m = g.op('MatMul', [m, averaging]);
    y = g.op('Add', [y, g.op('Mul', [g.op('ReduceMean', [m], { keepdims: { int: 1 } }), g.floats('zero', [1], [0])])]);
  }
  g.op('Identity', [y], undefined, 'y');
  return g.encode();
}
