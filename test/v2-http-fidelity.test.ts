/**
 * Protocol fidelity over HTTP, on both transports (uWebSockets.js and node:http) and both request forms
 * (JSON and the binary data extension): rank-0 tensors as `shape: []`, INT64 digits exact both ways,
 * `"outputs": []`, bad input as 400, and no absolute server path in any message a client sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIdentityAllTypes, IDENTITY_TYPES } from '../src/model-generator/onnx/identity-all-types.js';
import { buildScalarIo } from '../src/model-generator/onnx/scalar-io.js';
import { dataTypeInfo, type DataType } from '../src/dtypes.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { generatedRepo } from './helpers/generated-repo.js';

const SCALAR_REQUEST = {
  inputs: [
    { name: 'offset', datatype: 'FP32', shape: [], data: [0.5] },
    { name: 'values', datatype: 'FP32', shape: [3], data: [1, 2, 3] },
    { name: 'count', datatype: 'INT64', shape: [], data: [7] },
  ],
};

/** The binary-extension body for `inputs`: JSON header with binary_data_size, then the raw bytes. */
function binaryRequest(inputs: { name: string; datatype: string; shape: number[]; bytes: Uint8Array }[], extra: object = {}) {
  const header = Buffer.from(JSON.stringify({
    ...extra,
    inputs: inputs.map(({ name, datatype, shape, bytes }) => ({ name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } })),
  }));
  return {
    body: Buffer.concat([header, ...inputs.map((i) => i.bytes)]),
    headers: { 'inference-header-content-length': String(header.byteLength), 'content-type': 'application/octet-stream' },
  };
}

/** JSON text of the identity model's inputs: `given` (name → data text) and zeros for every other type. */
function identityRequest(given: Record<string, string>, output: string): string {
  const inputs = IDENTITY_TYPES.map(([t]) => {
    const zero = t === 'bool' ? 'false' : t === 'bytes' ? '""' : '0';
    const data = given[t] ?? `[${zero},${zero},${zero}]`;
    return `{"name":"in_${t}","datatype":"${t.toUpperCase()}","shape":[1,3],"data":${data}}`;
  });
  return `{"inputs":[${inputs.join(',')}],"outputs":[{"name":"${output}"}]}`;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe.each(['uws', 'node'] as const)('v2 fidelity over HTTP (%s)', (transport) => {
  const repo = generatedRepo({
    scalar_io: { onnx: buildScalarIo() },
    identity: { onnx: buildIdentityAllTypes() },
    broken: { onnx: new Uint8Array([1, 2, 3]) },
    bad_config: { onnx: buildScalarIo(), config: 'name: "bad_config"\nmax_batch_size: "x"' },
  });
  let server: RunningServer;
  beforeAll(async () => { server = await startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, transport }); });
  afterAll(async () => { await server?.close(); repo.cleanup(); });

  it('rank-0 inputs and outputs: metadata, JSON and binary requests with shape []', async () => {
    const meta = await call(server.url, 'GET', '/v2/models/scalar_io');
    expect(meta.json.inputs).toEqual([
      { name: 'offset', datatype: 'FP32', shape: [] },
      { name: 'values', datatype: 'FP32', shape: [3] },
      { name: 'count', datatype: 'INT64', shape: [] },
    ]);
    const json = await call(server.url, 'POST', '/v2/models/scalar_io/infer', SCALAR_REQUEST);
    expect(json.status).toBe(200);
    expect(json.json.outputs).toEqual([
      { name: 'shifted', datatype: 'FP32', shape: [3], data: [1.5, 2.5, 3.5] },
      { name: 'total', datatype: 'FP32', shape: [], data: [6] },
      { name: 'count_out', datatype: 'INT64', shape: [], data: [7] },
    ]);
    const { body, headers } = binaryRequest([
      { name: 'offset', datatype: 'FP32', shape: [], bytes: bytesOf(new Float32Array([0.5])) },
      { name: 'values', datatype: 'FP32', shape: [3], bytes: bytesOf(new Float32Array([1, 2, 3])) },
      { name: 'count', datatype: 'INT64', shape: [], bytes: bytesOf(new BigInt64Array([7n])) },
    ]);
    const bin = await call(server.url, 'POST', '/v2/models/scalar_io/infer', body, headers);
    expect(bin.status).toBe(200);
    expect(bin.json.outputs[1]).toEqual({ name: 'total', datatype: 'FP32', shape: [], data: [6] });
  });

  it('bad input: a scalar input sent with shape [1] is 400', async () => {
    const res = await call(server.url, 'POST', '/v2/models/scalar_io/infer',
      { inputs: [{ ...SCALAR_REQUEST.inputs[0], shape: [1] }, SCALAR_REQUEST.inputs[1], SCALAR_REQUEST.inputs[2]] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/input 'offset' of model 'scalar_io' has shape \[1\], expected \[\]/);
  });

  it('INT64 beyond 2^53 and the INT64 maximum travel exactly, JSON in and out, binary in and JSON out', async () => {
    const digits = '[9007199254740993,9223372036854775807,-9223372036854775808]';
    const post = (text: string) => call(server.url, 'POST', '/v2/models/identity/infer', Buffer.from(text), { 'content-type': 'application/json' });
    const res = await post(identityRequest({ int64: digits }, 'out_int64'));
    expect(res.status).toBe(200);
    expect(res.raw.toString()).toContain(`"data":${digits}`);
    const udigits = '[18446744073709551615,9007199254740993,0]';
    const ures = await post(identityRequest({ uint64: udigits }, 'out_uint64'));
    expect(ures.raw.toString()).toContain(`"data":${udigits}`);
    // Binary in, JSON out: every input binary (zeros but for INT64), the INT64 output as JSON.
    const { body, headers } = binaryRequest(IDENTITY_TYPES.map(([t]) => {
      const type = t.toUpperCase() as DataType;
      const bytes = type === 'INT64' ? bytesOf(new BigInt64Array([9007199254740993n, 2n ** 63n - 1n, -(2n ** 63n)]))
        : new Uint8Array(type === 'BYTES' ? 12 : 3 * dataTypeInfo(type).size); // BYTES: three empty strings
      return { name: `in_${t}`, datatype: type, shape: [1, 3], bytes };
    }), { outputs: [{ name: 'out_int64' }] });
    const bin = await call(server.url, 'POST', '/v2/models/identity/infer', body, headers);
    expect(bin.status).toBe(200);
    expect(bin.raw.toString()).toContain(`"data":${digits}`);
  });

  it('bad input: out-of-range INT64, ragged nesting, 1e39 for FP32 and priority beyond uint32 are 400', async () => {
    const bad = [
      '{"inputs":[{"name":"in_int64","datatype":"INT64","shape":[1,3],"data":[9223372036854775808,0,0]}]}',
      '{"inputs":[{"name":"in_fp32","datatype":"FP32","shape":[1,3],"data":[[1,2],[3]]}]}',
      '{"inputs":[{"name":"in_fp32","datatype":"FP32","shape":[1,3],"data":[1e39,0,0]}]}',
      '{"parameters":{"priority":4294967297},"inputs":[{"name":"in_fp32","datatype":"FP32","shape":[1,3],"data":[0,0,0]}]}',
    ];
    for (const text of bad) {
      const res = await call(server.url, 'POST', '/v2/models/scalar_io/infer', Buffer.from(text), { 'content-type': 'application/json' });
      expect(res.status, text).toBe(400);
      expect(res.json.error, text).toBeTypeOf('string');
    }
  });

  it('"outputs": [] alone returns every output (200, not 500)', async () => {
    const res = await call(server.url, 'POST', '/v2/models/scalar_io/infer', { ...SCALAR_REQUEST, outputs: [] });
    expect(res.status).toBe(200);
    expect(res.json.outputs.map((o: { name: string }) => o.name)).toEqual(['shifted', 'total', 'count_out']);
  });

  it('no message a client sees holds the repository path', async () => {
    const seen = [
      await call(server.url, 'POST', '/v2/models/broken/infer', SCALAR_REQUEST),
      await call(server.url, 'GET', '/v2/models/broken'),
      await call(server.url, 'GET', '/v2/models/bad_config'),
      await call(server.url, 'POST', '/v2/repository/index', {}),
    ];
    expect(seen[0]!.status).toBe(503);
    expect(seen[0]!.json.error).toMatch(/broken\/1\/model\.onnx/);
    const index = seen[3]!.json as { name: string; reason?: string }[];
    expect(index.find((e) => e.name === 'bad_config')?.reason).toMatch(/bad_config\/config\.pbtxt/);
    for (const res of seen) expect(res.raw.toString()).not.toContain(repo.root);
  });
});
