/**
 * identity_all_types (test fixture, shipped without config.pbtxt to exercise auto-complete): for every type
 * serval serves, an input `in_<v2 name>` of shape [batch, 3] copied by Identity to `out_<v2 name>`
 * (`in_fp32` → `out_fp32`, `in_bytes` → `out_bytes`, ...).
 */
import { GraphBuilder } from './graph-builder.js';
import { OnnxType } from './onnx-proto.js';

/** serval's (Open Inference Protocol) type name, lower-cased, → ONNX element type. */
export const IDENTITY_TYPES: ReadonlyArray<readonly [string, OnnxType]> = [
  ['bool', OnnxType.BOOL], ['uint8', OnnxType.UINT8], ['uint16', OnnxType.UINT16],
  ['uint32', OnnxType.UINT32], ['uint64', OnnxType.UINT64], ['int8', OnnxType.INT8],
  ['int16', OnnxType.INT16], ['int32', OnnxType.INT32], ['int64', OnnxType.INT64],
  ['fp16', OnnxType.FLOAT16], ['fp32', OnnxType.FLOAT], ['fp64', OnnxType.DOUBLE],
  ['bytes', OnnxType.STRING],
];

export function buildIdentityAllTypes(): Uint8Array {
  const g = new GraphBuilder('identity_all_types');
  for (const [name, type] of IDENTITY_TYPES) {
    const input = g.input(`in_${name}`, type, ['batch', 3]);
    g.output(`out_${name}`, type, ['batch', 3]);
    g.op('Identity', [input], undefined, `out_${name}`);
  }
  return g.encode();
}
