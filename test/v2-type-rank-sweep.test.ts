/**
 * A sweep of every tensor type at ranks 0 to 5 (generated identity models, no batching): each answers over
 * HTTP (JSON and binary) and gRPC (raw contents) exactly what onnxruntime-node computes in-process for the same inputs, with the
 * edge values of each type (INT64 extremes and 2^53+1, FP32 max and subnormals, FP16 bits, NUL-free UTF-8).
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, dataTypeInfo, toOrtType, type DataType, type TensorData } from '../src/dtypes.js';
import { buildIdentityAtShape } from '../src/model-generator/onnx/identity-at-shape.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { decodeInferRequest } from '../src/server/v2-codec.js';
import { tensorDataToBinary, tensorDataToJsonText } from '../src/server/v2-tensor-data.js';
import { inferenceClient, type InferenceClient } from './fixtures/grpc-client.js';
import { call } from './fixtures/http-call.js';
import { generatedRepo } from './helpers/generated-repo.js';

const SHAPES: readonly (readonly number[])[] = [[], [3], [2, 3], [2, 1, 3], [1, 2, 1, 3], [2, 1, 1, 2, 2]];

const EDGES: Record<DataType, readonly unknown[]> = {
  BOOL: [1, 0, 1],
  UINT8: [255, 0, 7], UINT16: [65535, 0, 300], UINT32: [4294967295, 0, 70000],
  UINT64: [18446744073709551615n, 0n, 9007199254740993n],
  INT8: [-128, 127, -1], INT16: [-32768, 32767, -1], INT32: [-2147483648, 2147483647, -1],
  INT64: [-9223372036854775808n, 9223372036854775807n, 9007199254740993n],
  FP16: [0x7bff, 0x0001, 0xbc00], // 65504, the smallest subnormal, -1
  FP32: [3.4028234663852886e38, 1.401298464324817e-45, Math.fround(0.1)],
  FP64: [Number.MAX_VALUE, 5e-324, -0.1],
  BYTES: ['', 'héllo wörld', '12345678901234567890'],
};

/** `count` elements of `type` cycling through its edge values. */
function values(type: DataType, count: number): TensorData {
  const edges = EDGES[type];
  if (type === 'BYTES') return Array.from({ length: count }, (_, i) => edges[i % edges.length] as string);
  const out = new (dataTypeInfo(type).array!)(count);
  for (let i = 0; i < count; i++) (out as unknown as unknown[])[i] = edges[i % edges.length];
  return out;
}

const lower = (t: DataType) => t.toLowerCase();

// One server for the whole sweep: identity_rank0 ... identity_rank5.
const repo = generatedRepo(Object.fromEntries(SHAPES.map((s) => [`identity_rank${s.length}`, { onnx: buildIdentityAtShape(s) }])));
let server: RunningServer;
let grpc: InferenceClient;
beforeAll(async () => {
  server = await startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, grpcPort: 0 });
  grpc = inferenceClient(`127.0.0.1:${server.grpcPort}`);
});
afterAll(async () => { grpc?.close(); await server?.close(); repo.cleanup(); });

describe.each(SHAPES.map((s) => [s.length, s] as const))('every type at rank %i', (rank, shape) => {
  const count = shape.reduce((a, b) => a * b, 1);
  const inputs = Object.fromEntries(DATA_TYPES.map((t) => [t, values(t, count)])) as Record<DataType, TensorData>;
  const model = `identity_rank${rank}`;
  let expected: Record<string, ort.Tensor>;
  beforeAll(async () => {
    const session = await ort.InferenceSession.create(`${repo.root}/${model}/1/model.onnx`);
    const feeds = Object.fromEntries(DATA_TYPES.map((t) => [`in_${lower(t)}`, new ort.Tensor(toOrtType(t) as 'float32', inputs[t] as Float32Array, shape)]));
    expected = await session.run(feeds);
    await session.release();
  });

  /** The response's outputs, read back through serval's decoder (the response is a request's mirror). */
  function outputsOf(raw: Buffer, headerLength: number | undefined) {
    const head = raw.subarray(0, headerLength ?? raw.byteLength).toString().replace('"outputs":[', '"inputs":[');
    const body = Buffer.concat([Buffer.from(head), raw.subarray(headerLength ?? raw.byteLength)]);
    return decodeInferRequest(body, headerLength === undefined ? undefined : Buffer.byteLength(head)).inputs;
  }

  function expectMatchesOnnxruntime(outputs: ReturnType<typeof outputsOf>): void {
    for (const t of DATA_TYPES) {
      const got = outputs[`out_${lower(t)}`]!;
      const want = expected[`out_${lower(t)}`]!;
      expect(got.dims, t).toEqual([...shape]);
      expect(want.dims, t).toEqual([...shape]);
      expect(Array.from(got.data as ArrayLike<unknown>), t).toEqual(Array.from(want.data as ArrayLike<unknown>));
    }
  }

  it('JSON request, JSON response', async () => {
    const text = `{"inputs":[${DATA_TYPES.map((t) =>
      `{"name":"in_${lower(t)}","datatype":"${t}","shape":${JSON.stringify(shape)},"data":${tensorDataToJsonText(t, inputs[t])}}`).join(',')}]}`;
    const res = await call(server.url, 'POST', `/v2/models/${model}/infer`, Buffer.from(text), { 'content-type': 'application/json' });
    expect(res.status, res.raw.toString()).toBe(200);
    expectMatchesOnnxruntime(outputsOf(res.raw, undefined));
  });

  it('gRPC ModelInfer, raw_input_contents in, raw_output_contents out', async () => {
    const res = await grpc.call('ModelInfer', {
      model_name: model,
      inputs: DATA_TYPES.map((t) => ({ name: `in_${lower(t)}`, datatype: t, shape: shape.map(String) })),
      raw_input_contents: DATA_TYPES.map((t) => tensorDataToBinary(t, inputs[t])),
    });
    // Read the answer back through the binary decoder: the raw contents are the binary extension's bytes.
    const outs = res['outputs'] as { name: string; datatype: string; shape: string[] }[];
    const raw = (res['raw_output_contents'] as Uint8Array[]).map((b) => Buffer.from(b));
    const header = Buffer.from(JSON.stringify({
      inputs: outs.map((o, i) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(Number), parameters: { binary_data_size: raw[i]!.byteLength } })),
    }));
    expectMatchesOnnxruntime(decodeInferRequest(Buffer.concat([header, ...raw]), header.byteLength).inputs);
  });

  it('binary request, binary response', async () => {
    const segments = DATA_TYPES.map((t) => tensorDataToBinary(t, inputs[t]));
    const header = Buffer.from(JSON.stringify({
      inputs: DATA_TYPES.map((t, i) => ({ name: `in_${lower(t)}`, datatype: t, shape, parameters: { binary_data_size: segments[i]!.byteLength } })),
      parameters: { binary_data_output: true },
    }));
    const res = await call(server.url, 'POST', `/v2/models/${model}/infer`, Buffer.concat([header, ...segments]),
      { 'inference-header-content-length': String(header.byteLength) });
    expect(res.status, res.raw.toString()).toBe(200);
    expectMatchesOnnxruntime(outputsOf(res.raw, Number(res.headers['inference-header-content-length'])));
  });
});
