/**
 * The router's side of the v2 protocol: a formed batch as one request with the binary tensor data
 * extension (a JSON header, then each input's raw bytes), and the replica's binary response back to the
 * outputs NativeExecutor.complete takes. Runs on the forwarder threads.
 */
import type { DataType, TensorData } from '../dtypes.js';
import { tensorDataFromBinary, tensorDataToBinary } from '../server/v2-tensor-data.js';
import type { NativeBatch } from '../binding.js';

export interface WireTensor { name: string; datatype: DataType }

export interface EncodedBatch { headerLength: number; body: Buffer }

/** The batch as a v2 binary request asking for the outputs in `outputMask` as binary data. */
export function encodeBatchRequest(inputs: readonly WireTensor[], outputs: readonly WireTensor[], batch: NativeBatch): EncodedBatch {
  const segments: Uint8Array[] = [];
  const header = {
    inputs: inputs.map((spec, i) => {
      const t = batch.inputs[i]!;
      const bytes = tensorDataToBinary(spec.datatype, t.data as TensorData);
      segments.push(bytes);
      return { name: spec.name, datatype: spec.datatype, shape: t.dims, parameters: { binary_data_size: bytes.byteLength } };
    }),
    outputs: outputs.filter((_, i) => Math.floor(batch.outputMask / 2 ** i) % 2 === 1)
      .map((o) => ({ name: o.name, parameters: { binary_data: true } })),
  };
  const head = Buffer.from(JSON.stringify(header));
  return { headerLength: head.byteLength, body: Buffer.concat([head, ...segments]) };
}

export interface DecodedOutput { data: TensorData; dims: number[] }

/**
 * The replica's response: outputs in the model's order (undefined where not returned). Throws an Error
 * naming what is wrong with a malformed response.
 */
export function decodeBatchResponse(outputs: readonly WireTensor[], body: Buffer, headerLength: number | undefined): (DecodedOutput | undefined)[] {
  const jsonEnd = headerLength ?? body.byteLength;
  if (jsonEnd > body.byteLength) throw new Error(`replica response: header length ${jsonEnd} exceeds the body (${body.byteLength} bytes)`);
  const header = JSON.parse(body.subarray(0, jsonEnd).toString('utf8')) as {
    outputs?: { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size?: number }; data?: unknown[] }[];
  };
  const out: (DecodedOutput | undefined)[] = outputs.map(() => undefined);
  let offset = jsonEnd;
  for (const o of header.outputs ?? []) {
    const i = outputs.findIndex((s) => s.name === o.name);
    if (i < 0) throw new Error(`replica response: unexpected output '${o.name}'`);
    const type = outputs[i]!.datatype;
    const count = o.shape.reduce((a, b) => a * b, 1);
    const size = o.parameters?.binary_data_size;
    if (size === undefined) throw new Error(`replica response: output '${o.name}' is not binary`);
    out[i] = { data: tensorDataFromBinary(type, body.subarray(offset, offset + size), count, `replica output '${o.name}'`), dims: o.shape };
    offset += size;
  }
  return out;
}
