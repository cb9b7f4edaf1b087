/**
 * The v2 gRPC API (inference.GRPCInferenceService) against a fake runtime, with a grpc-js client built
 * from the same .proto: every RPC, raw and typed tensor contents for every datatype, BYTES, requested
 * outputs, parameters, the error-code table, streaming, and shutdown.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, type DataType, type TensorData } from '../src/dtypes.js';
import { grpcStatusFor } from '../src/server/grpc/grpc-status.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { tensorDataToBinary } from '../src/server/v2-tensor-data.js';
import type { ServalErrorCode } from '../src/errors.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { call } from './fixtures/http-call.js';
import { parsePrometheusText, sampleValue } from './fixtures/prom-text.js';
import { asFloat32, inferenceClient, rawBytes, type InferenceClient, type Message } from './fixtures/grpc-client.js';
import { rejected } from './helpers/caught.js';

const SAMPLES: Record<DataType, TensorData> = {
  BOOL: Uint8Array.of(1, 0), UINT8: Uint8Array.of(0, 255), UINT16: Uint16Array.of(1, 65535), UINT32: Uint32Array.of(2, 4294967295),
  UINT64: BigUint64Array.of(3n, 18446744073709551615n), INT8: Int8Array.of(-128, 127), INT16: Int16Array.of(-32768, 32767),
  INT32: Int32Array.of(-2147483648, 5), INT64: BigInt64Array.of(-9223372036854775808n, 9007199254740993n),
  FP16: Uint16Array.of(0x3800, 0xc000), FP32: Float32Array.of(1.5, -0.25), FP64: Float64Array.of(Math.PI, -1e300), BYTES: ['héllo', ''],
};

/** The same samples as typed `contents` (64-bit integers as decimal strings, BYTES as bytes). */
const TYPED: Partial<Record<DataType, [string, unknown[]]>> = {
  BOOL: ['bool_contents', [true, false]], UINT8: ['uint_contents', [0, 255]], UINT16: ['uint_contents', [1, 65535]],
  UINT32: ['uint_contents', [2, 4294967295]], UINT64: ['uint64_contents', ['3', '18446744073709551615']],
  INT8: ['int_contents', [-128, 127]], INT16: ['int_contents', [-32768, 32767]], INT32: ['int_contents', [-2147483648, 5]],
  INT64: ['int64_contents', ['-9223372036854775808', '9007199254740993']], FP32: ['fp32_contents', [1.5, -0.25]],
  FP64: ['fp64_contents', [Math.PI, -1e300]], BYTES: ['bytes_contents', [Buffer.from('héllo'), Buffer.alloc(0)]],
};

const scorerRequest = (rows: number[][]): Message => ({
  model_name: 'scorer',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
  raw_input_contents: [rawBytes(Float32Array.from(rows.flat()))],
});

const failWith = (code: string): Message => ({
  model_name: 'failing',
  inputs: [{ name: 'code', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(code)] } }],
});

describe('v2 gRPC API (fake runtime)', () => {
  let server: RunningServer;
  let fake: FakeRuntime;
  let client: InferenceClient;

  beforeAll(async () => {
    fake = new FakeRuntime();
    server = await startServer({ runtime: fake, port: 0, grpcPort: 0, transport: 'node', maxBodyMb: 1, serverVersion: '1.2.3' });
    client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('ServerLive, ServerReady and ServerMetadata', async () => {
    expect(await client.call('ServerLive')).toEqual({ live: true });
    expect(await client.call('ServerReady')).toEqual({ ready: true });
    const meta = await client.call('ServerMetadata');
    expect(meta).toMatchObject({ name: 'serval', version: '1.2.3' });
    expect(meta['extensions']).toEqual(expect.arrayContaining(['model_repository', 'statistics', 'model_configuration']));
  });

  it('ModelReady: a ready model, a version, and an unknown model (NOT_FOUND)', async () => {
    expect(await client.call('ModelReady', { name: 'scorer' })).toEqual({ ready: true });
    expect(await client.call('ModelReady', { name: 'scorer', version: '1' })).toEqual({ ready: true });
    expect((await rejected(client.call('ModelReady', { name: 'nope' }))).code).toBe(status.NOT_FOUND);
    expect((await rejected(client.call('ModelReady', { name: 'scorer', version: '9' }))).code).toBe(status.NOT_FOUND);
  });

  it('bad input: a malformed model name or version is INVALID_ARGUMENT', async () => {
    expect((await rejected(client.call('ModelReady', { name: '../etc' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await rejected(client.call('ModelMetadata', { name: 'scorer', version: 'one' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await rejected(client.call('ModelInfer', { ...scorerRequest([[1, 2, 3, 4]]), model_name: '' }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('ModelMetadata: tensors with their datatypes and shapes', async () => {
    expect(await client.call('ModelMetadata', { name: 'scorer' })).toEqual({
      name: 'scorer', versions: ['1'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'probability', datatype: 'FP32', shape: ['-1', '1'] }],
    });
    expect((await rejected(client.call('ModelMetadata', { name: 'nope' }))).code).toBe(status.NOT_FOUND);
  });

  it("ModelConfig: Triton's ModelConfig message", async () => {
    const { config } = await client.call('ModelConfig', { name: 'scorer' });
    expect(config).toMatchObject({
      name: 'scorer', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: ['4'], optional: false }],
      output: [{ name: 'probability', data_type: 'TYPE_FP32', dims: ['1'], reshape: { shape: ['1'] } }],
      instance_group: [{ name: 'g', kind: 'KIND_CPU', count: 1, gpus: [] }],
      version_policy: { latest: { num_versions: 1 } },
      parameters: { intra_op_thread_count: { string_value: '1' } },
      default_model_filename: 'model.onnx',
    });
    expect((await rejected(client.call('ModelConfig', { name: 'nope' }))).code).toBe(status.NOT_FOUND);
  });

  it('ModelInfer with raw_input_contents answers raw_output_contents', async () => {
    const res = await client.call('ModelInfer', { ...scorerRequest([[1, 2, 3, 4], [0, 0, 0, 8]]), id: 'req-7' });
    expect(res).toMatchObject({ model_name: 'scorer', model_version: '1', id: 'req-7' });
    expect(res['outputs']).toMatchObject([{ name: 'probability', datatype: 'FP32', shape: ['2', '1'] }]);
    expect(Array.from(asFloat32(res['raw_output_contents'][0]))).toEqual([2.5, 2]);
  });

  it('ModelInfer with typed contents; binary_data_output false answers typed contents', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'scorer',
      parameters: { binary_data_output: { bool_param: false } },
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [4, 4, 4, 8] } }],
    });
    expect(res['raw_output_contents']).toEqual([]);
    expect(res['outputs'][0].contents.fp32_contents).toEqual([5]);
  });

  it.each(DATA_TYPES)('%s: raw contents round-trip byte for byte', async (type) => {
    const bytes = Buffer.from(tensorDataToBinary(type, SAMPLES[type]));
    const res = await client.call('ModelInfer', {
      model_name: 'echo', inputs: [{ name: 'x', datatype: type, shape: [2] }], raw_input_contents: [bytes],
    });
    expect(res['outputs']).toMatchObject([{ name: 'x', datatype: type, shape: ['2'] }]);
    expect(Buffer.from(res['raw_output_contents'][0])).toEqual(bytes);
  });

  it.each(DATA_TYPES.filter((t) => t !== 'FP16'))('%s: typed contents round-trip exactly', async (type) => {
    const [field, values] = TYPED[type]!;
    const res = await client.call('ModelInfer', {
      model_name: 'echo',
      parameters: { binary_data_output: { bool_param: false } },
      inputs: [{ name: 'x', datatype: type, shape: [2], contents: { [field]: values } }],
    });
    expect(res['outputs'][0].contents[field]).toEqual(values);
    // The same tensor the raw path decodes.
    expect(Buffer.from((await client.call('ModelInfer', {
      model_name: 'echo', inputs: [{ name: 'x', datatype: type, shape: [2], contents: { [field]: values } }],
    }))['raw_output_contents'][0])).toEqual(Buffer.from(tensorDataToBinary(type, SAMPLES[type])));
  });

  it('BYTES: length-prefixed raw elements, UTF-8 text', async () => {
    const raw = Buffer.from(tensorDataToBinary('BYTES', ['a', 'ünï', '']));
    expect(raw.readUInt32LE(0)).toBe(1);
    const res = await client.call('ModelInfer', {
      model_name: 'echo', inputs: [{ name: 's', datatype: 'BYTES', shape: [3] }], raw_input_contents: [raw],
    });
    expect(Buffer.from(res['raw_output_contents'][0])).toEqual(raw);
  });

  it('requested outputs: only those, in the order asked', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'echo',
      inputs: [
        { name: 'a', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } },
        { name: 'b', datatype: 'INT32', shape: [1], contents: { int_contents: [2] } },
        { name: 'c', datatype: 'INT32', shape: [1], contents: { int_contents: [3] } },
      ],
      outputs: [{ name: 'c' }, { name: 'a' }],
    });
    expect(res['outputs'].map((o: Message) => o['name'])).toEqual(['c', 'a']);
    expect(res['raw_output_contents'].map((b: Uint8Array) => Buffer.from(b).readInt32LE(0))).toEqual([3, 1]);
    expect(fake.lastOptions?.outputs).toEqual(['c', 'a']);
  });

  it('parameters: priority and timeout (µs) reach the runtime', async () => {
    await client.call('ModelInfer', {
      ...scorerRequest([[1, 1, 1, 1]]),
      parameters: { priority: { uint64_param: '2' }, timeout: { int64_param: '1500' } },
    });
    expect(fake.lastOptions).toMatchObject({ priority: 2, timeoutMs: 1.5 });
  });

  it.each<[string, Message, RegExp]>([
    ['unknown datatype', { inputs: [{ name: 'input', datatype: 'FP8', shape: [1, 4] }] }, /unknown datatype "FP8"/],
    ['negative dimension', { inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }] }, /non-negative integers/],
    ['raw bytes that do not fill the shape', { raw_input_contents: [Buffer.alloc(12)] }, /12 bytes, but shape \[1,4\] of FP32 needs 16/],
    ['typed contents short of the shape', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1] } }], raw_input_contents: [] }, /needs 4 elements/],
    ['contents in the wrong field', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1], contents: { int_contents: [1] } }], raw_input_contents: [] }, /contents.int_contents has 1/],
    ['raw and typed contents together', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] }, /one or the other/],
    ['more raw entries than inputs', { raw_input_contents: [Buffer.alloc(16), Buffer.alloc(16)] }, /2 entries, but the request has 1 inputs/],
    ['FP16 as typed contents', { model_name: 'echo', inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: {} }], raw_input_contents: [] }, /FP16 has no typed contents field/],
    ['a typed value out of the datatype range', { model_name: 'echo', inputs: [{ name: 'u', datatype: 'UINT8', shape: [1], contents: { uint_contents: [256] } }], raw_input_contents: [] }, /element 0 is 256/],
    ['no inputs', { inputs: [], raw_input_contents: [] }, /no inputs/],
    ['a BYTES shape far beyond its raw bytes', { model_name: 'echo', inputs: [{ name: 's', datatype: 'BYTES', shape: ['4294967296', '4294967296'] }], raw_input_contents: [Buffer.alloc(8)] }, /too few for the 18446744073709552000 BYTES elements/],
    ['a dimension beyond 2^53', { inputs: [{ name: 'input', datatype: 'FP32', shape: ['9223372036854775807', '4'] }] }, /non-negative integers/],
    ['the same input twice', { inputs: [{ name: 'input', datatype: 'FP32', shape: [0] }, { name: 'input', datatype: 'FP32', shape: [0] }], raw_input_contents: [] }, /appears more than once/],
    ['a priority that is not an integer', { parameters: { priority: { string_param: 'high' } } }, /"priority" must be a non-negative int64_param/],
    ['a negative timeout', { parameters: { timeout: { int64_param: '-5' } } }, /"timeout" must be a non-negative/],
    ['binary_data_output that is not a bool', { parameters: { binary_data_output: { int64_param: '1' } } }, /must be a bool_param/],
    ['shared-memory inputs', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { shared_memory_region: { string_param: 'r' } } }] }, /shared-memory tensors are not supported/],
    ['an output requested twice', { outputs: [{ name: 'probability' }, { name: 'probability' }] }, /requested more than once/],
  ])('bad input: %s is INVALID_ARGUMENT', async (_case, override, message) => {
    const err = await rejected(client.call('ModelInfer', { ...scorerRequest([[1, 2, 3, 4]]), ...override }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect((err as unknown as { details: string }).details).toMatch(message);
  });

  it('bad input: a message over --max-body-mb is RESOURCE_EXHAUSTED, and the server goes on', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024);
    const err = await rejected(client.call('ModelInfer', {
      model_name: 'echo', inputs: [{ name: 'x', datatype: 'UINT8', shape: [big.length] }], raw_input_contents: [big],
    }));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await client.call('ServerLive')).toEqual({ live: true });
  });

  it('bad input: bytes that are not a ModelInferRequest get an error status, and the server goes on', async () => {
    const { credentials } = await import('@grpc/grpc-js');
    const raw = new (await import('@grpc/grpc-js')).Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
    const send = (payload: Buffer) =>
      new Promise<{ code: number } | null>((resolve) =>
        raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, payload, (err) => resolve(err)),
      );
    const garbage = [Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x2a, 0x05, 0x0a]), Buffer.from([0x3a, 0xff, 0xff, 0xff, 0x0f]), Buffer.from('not protobuf at all')];
    for (const payload of garbage) {
      const err = await send(payload);
      expect(err, payload.toString('hex')).not.toBeNull();
      expect([status.INTERNAL, status.INVALID_ARGUMENT]).toContain(err!.code);
    }
    raw.close();
    expect(await client.call('ServerLive')).toEqual({ live: true });
  });

  it('bad input: an unknown model is NOT_FOUND', async () => {
    const err = await rejected(client.call('ModelInfer', { ...scorerRequest([[1, 2, 3, 4]]), model_name: 'nope' }));
    expect(err.code).toBe(status.NOT_FOUND);
  });

  it.each<[ServalErrorCode, status]>([
    ['QUEUE_FULL', status.RESOURCE_EXHAUSTED],
    ['TIMEOUT', status.DEADLINE_EXCEEDED],
    ['CANCELLED', status.CANCELLED],
    ['CLOSED', status.UNAVAILABLE],
    ['MODEL_UNAVAILABLE', status.UNAVAILABLE],
    ['EXECUTION_FAILED', status.INTERNAL],
    ['INVALID_INPUT', status.INVALID_ARGUMENT],
    ['UNKNOWN_MODEL', status.NOT_FOUND],
  ])('runtime error %s answers gRPC status %s', async (code, expected) => {
    const err = await rejected(client.call('ModelInfer', failWith(code)));
    expect(err.code).toBe(expected);
    expect(grpcStatusFor(code)).toBe(expected);
  });

  it('error table: every serval code has a status; an unknown code is INTERNAL, never OK', () => {
    for (const code of ['UNKNOWN_MODEL', 'INVALID_INPUT', 'INVALID_ARGUMENT', 'INVALID_CONFIG', 'QUEUE_FULL', 'TIMEOUT', 'CANCELLED', 'CLOSED', 'MODEL_UNAVAILABLE', 'EXECUTION_FAILED', 'INTERNAL'] as const) {
      expect(grpcStatusFor(code)).not.toBe(status.OK);
    }
    expect(grpcStatusFor('NOT_A_CODE' as ServalErrorCode)).toBe(status.INTERNAL);
  });

  it('a client deadline aborts the queued request (DEADLINE_EXCEEDED)', async () => {
    fake.slowMs = 2000;
    const err = await rejected(client.call('ModelInfer', { model_name: 'slow', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } }] }, { deadlineMs: 100 }));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => fake.lastOptions?.signal?.aborted).toBe(true);
  });

  it('ModelStatistics: per model, and NOT_FOUND for an unknown one', async () => {
    await client.call('ModelInfer', scorerRequest([[1, 2, 3, 4]]));
    const { model_stats } = await client.call('ModelStatistics', { name: 'scorer' });
    expect(model_stats).toHaveLength(1);
    expect(model_stats[0]).toMatchObject({ name: 'scorer', version: '1' });
    expect(Number(model_stats[0].inference_count)).toBeGreaterThan(0);
    expect(Number(model_stats[0].last_inference)).toBeGreaterThan(0);
    expect(Number(model_stats[0].inference_stats.success.count)).toBeGreaterThan(0);
    const all = await client.call('ModelStatistics', {});
    expect(all['model_stats'].map((m: Message) => m['name'])).toEqual(expect.arrayContaining(['scorer', 'echo']));
    expect((await rejected(client.call('ModelStatistics', { name: 'nope' }))).code).toBe(status.NOT_FOUND);
  });

  it('RepositoryIndex: every model, or the ready ones', async () => {
    const all = (await client.call('RepositoryIndex', {}))['models'] as Message[];
    expect(all).toEqual(expect.arrayContaining([{ name: 'scorer', version: '1', state: 'READY', reason: '' }, { name: 'not_loaded', version: '', state: '', reason: '' }]));
    const ready = (await client.call('RepositoryIndex', { ready: true }))['models'] as Message[];
    expect(ready.map((m) => m['name'])).not.toContain('not_loaded');
  });

  it('RepositoryModelLoad/Unload outside explicit mode is FAILED_PRECONDITION', async () => {
    expect((await rejected(client.call('RepositoryModelLoad', { model_name: 'scorer' }))).code).toBe(status.FAILED_PRECONDITION);
    expect((await rejected(client.call('RepositoryModelUnload', { model_name: 'scorer' }))).code).toBe(status.FAILED_PRECONDITION);
    expect(fake.calls).not.toContain('unload scorer');
  });

  it('ModelStreamInfer: one answer per request, errors in error_message, the stream ends OK', async () => {
    const stream = client.raw['ModelStreamInfer']!() as NodeJS.ReadWriteStream & { on(e: 'status', l: (s: { code: number }) => void): void };
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<number>((resolve) => stream.on('status', (s) => resolve(s.code)));
    stream.write({ ...scorerRequest([[1, 2, 3, 4]]), id: 'a' });
    stream.write({ ...failWith('QUEUE_FULL'), id: 'b' });
    stream.write({ ...scorerRequest([[2, 2, 2, 2]]), id: 'c' });
    stream.end();
    expect(await ended).toBe(status.OK);
    const byId = Object.fromEntries(answers.map((a) => [a['infer_response'].id, a]));
    expect(Object.keys(byId).sort()).toEqual(['a', 'b', 'c']);
    expect(byId['a']!['error_message']).toBe('');
    expect(Array.from(asFloat32(byId['c']!['infer_response'].raw_output_contents[0]))).toEqual([2]);
    expect(byId['b']!['error_message']).toMatch(/fake failure QUEUE_FULL/);
  });

  it('ModelStreamInfer: cancelling the stream aborts its queued requests', async () => {
    fake.slowMs = 2000;
    fake.lastOptions = undefined;
    const stream = client.raw['ModelStreamInfer']!() as NodeJS.ReadWriteStream & { cancel(): void };
    stream.on('error', () => {});
    stream.write({ model_name: 'slow', id: 's', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [1] } }] });
    await expect.poll(() => fake.lastOptions !== undefined).toBe(true);
    stream.cancel();
    await expect.poll(() => fake.lastOptions?.signal?.aborted).toBe(true);
  });

  it('serval_grpc_requests_total counts answers by RPC and status name', async () => {
    const before = parsePrometheusText((await call(server.url, 'GET', '/metrics')).raw.toString());
    const ok = sampleValue(before, 'serval_grpc_requests_total', { method: 'ModelInfer', code: 'OK' }) ?? 0;
    const notFound = sampleValue(before, 'serval_grpc_requests_total', { method: 'ModelInfer', code: 'NOT_FOUND' }) ?? 0;
    await client.call('ModelInfer', scorerRequest([[1, 2, 3, 4]]));
    await rejected(client.call('ModelInfer', { ...scorerRequest([[1, 2, 3, 4]]), model_name: 'nope' }));
    const after = parsePrometheusText((await call(server.url, 'GET', '/metrics')).raw.toString());
    expect(sampleValue(after, 'serval_grpc_requests_total', { method: 'ModelInfer', code: 'OK' })).toBe(ok + 1);
    expect(sampleValue(after, 'serval_grpc_requests_total', { method: 'ModelInfer', code: 'NOT_FOUND' })).toBe(notFound + 1);
  });

  it('an RPC serval does not serve is UNIMPLEMENTED', async () => {
    const { makeGenericClientConstructor, credentials } = await import('@grpc/grpc-js');
    const Generic = makeGenericClientConstructor({
      TraceSetting: {
        path: '/inference.GRPCInferenceService/TraceSetting', requestStream: false, responseStream: false,
        requestSerialize: (x: Buffer) => x, requestDeserialize: (x: Buffer) => x, responseSerialize: (x: Buffer) => x, responseDeserialize: (x: Buffer) => x,
      },
    }, 'inference.GRPCInferenceService');
    const generic = new Generic(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => void> & { close(): void };
    const err = await new Promise<{ code: number }>((resolve) => generic['TraceSetting']!(Buffer.alloc(0), (e: { code: number }) => resolve(e)));
    generic.close();
    expect(err.code).toBe(status.UNIMPLEMENTED);
  });
});
