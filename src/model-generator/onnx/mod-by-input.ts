/**
 * mod_by_input (test model): `a` INT32 [n] modulo `b` INT32 [n] (`c`). An all-zero `b` is an integer
 * modulo by zero, which onnxruntime refuses, so a zero-filled warmup fails while real requests succeed.
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

export function buildModByInput(): Uint8Array {
  const g = new GraphBuilder('mod_by_input');
  const a = g.input('a', OnnxType.INT32, ['n']);
  const b = g.input('b', OnnxType.INT32, ['n']);
  g.output('c', OnnxType.INT32, ['n']);
  g.op('Mod', [a, b], undefined, 'c');
  return g.encode();
}
