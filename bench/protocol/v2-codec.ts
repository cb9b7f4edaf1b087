/**
 * The client half of the Open Inference Protocol v2 infer exchange: request bodies (JSON, or the binary tensor
 * extension: a JSON header of `Inference-Header-Content-Length` bytes, then each input's raw little-endian
 * bytes, `parameters.binary_data_size` on each input, `binary_data_output: true` for binary answers) and a
 * check that an answer is a v2 infer response. Tensor conversion is serval's own (src/server/v2-tensor-data),
 * the same code the server decodes with.
 */
import type { DataType, TensorData } from '../../src/dtypes.js';
import { tensorDataToBinary, tensorDataToJsonText } from '../../src/server/v2-tensor-data.js';
import { BenchError } from '../errors.js';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface WireTensor {
  name: string;
  datatype: DataType;
  shape: number[];
  data: TensorData;
}

export interface EncodedRequest {
  body: Buffer;
  headers: Record<string, string>;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeInferRequest(inputs: WireTensor[], binary: boolean): EncodedRequest {
  const head = (t: WireTensor) => `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":${JSON.stringify(t.shape)}`;
  if (!binary) {
    const body = Buffer.from(`{"inputs":[${inputs.map((t) => `${head(t)},"data":${tensorDataToJsonText(t.datatype, t.data)}}`).join(',')}]}`);
    return { body, headers: { 'content-type': 'application/json' } };
  }
  const segments = inputs.map((t) => tensorDataToBinary(t.datatype, t.data));
  const json = Buffer.from(
    `{"inputs":[${inputs.map((t, i) => `${head(t)},"parameters":{"binary_data_size":${segments[i].byteLength}}}`).join(',')}],` +
      `"parameters":{"binary_data_output":true}}`,
  );
  return {
    body: Buffer.concat([json, ...segments]),
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(json.byteLength) },
  };
}

/** Throws TARGET_ERROR unless `body` is a v2 infer response with outputs (and, if binary, the right size). */
export function checkInferResponse(body: Buffer, headerLength: number | undefined): void {
  let parsed: { outputs?: Array<{ parameters?: { binary_data_size?: number } }> };
  try {
    parsed = JSON.parse((headerLength === undefined ? body : body.subarray(0, headerLength)).toString('utf8')) as typeof parsed;
  } catch {
    throw new BenchError('TARGET_ERROR', 'the infer response is not JSON (is this an Open Inference Protocol v2 server?)');
  }
  if (!Array.isArray(parsed.outputs)) throw new BenchError('TARGET_ERROR', 'the infer response has no "outputs" array');
  if (headerLength === undefined) return;
  let expected = headerLength;
  for (const o of parsed.outputs) expected += Number(o.parameters?.binary_data_size ?? 0);
  if (expected !== body.length) {
    throw new BenchError('TARGET_ERROR', `the binary infer response is ${body.length} bytes, its header promises ${expected}`);
  }
}
