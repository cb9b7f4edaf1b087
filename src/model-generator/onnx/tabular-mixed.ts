/**
 * tabular_mixed: non-float types end to end.
 * ids INT64 [batch, 4] → id_sum INT64 [batch, 1] (ReduceSum over axis 1, axes as an input since opset 13);
 * flags BOOL [batch, 4] → any_flag BOOL [batch, 1] (Cast to int32 → ReduceMax → Cast to bool);
 * text STRING [batch, 1] → text_out STRING [batch, 1] (Identity).
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export function buildTabularMixed(): Uint8Array {
  const g = new GraphBuilder('tabular_mixed');
  const ids = g.input('ids', OnnxType.INT64, ['batch', 4]);
  const flags = g.input('flags', OnnxType.BOOL, ['batch', 4]);
  const text = g.input('text', OnnxType.STRING, ['batch', 1]);
  g.output('id_sum', OnnxType.INT64, ['batch', 1]);
  g.output('any_flag', OnnxType.BOOL, ['batch', 1]);
  g.output('text_out', OnnxType.STRING, ['batch', 1]);

  const axis1 = g.int64s('axis_1', [1]);
  g.op('ReduceSum', [ids, axis1], { keepdims: { int: 1 } }, 'id_sum');

  const asInt = g.op('Cast', [flags], { to: { int: OnnxType.INT32 } });
  const max = g.op('ReduceMax', [asInt], { axes: { ints: [1] }, keepdims: { int: 1 } });
  g.op('Cast', [max], { to: { int: OnnxType.BOOL } }, 'any_flag');

  g.op('Identity', [text], undefined, 'text_out');
  return g.encode();
}
