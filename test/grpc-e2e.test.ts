/**
 * End to end: the built `serval serve` on real ONNX models, driven over gRPC with a grpc-js client and
 * compared with the HTTP answers of the same process (same runtime, same codec rules). Needs the build
 * (npx tsc) and the native addon.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, type DataType, type TensorData } from '../src/dtypes.js';
import { tensorDataToBinary } from '../src/server/v2-tensor-data.js';
import { call } from './fixtures/http-call.js';
import { asFloat32, inferenceClient, rawBytes, type InferenceClient, type Message } from './fixtures/grpc-client.js';
import { startServal, tempRepository, type ServalProcess } from './fixtures/serval-process.js';
import { rejected } from './helpers/caught.js';

const SAMPLES: Record<DataType, TensorData> = {
  BOOL: Uint8Array.of(1, 0, 1), UINT8: Uint8Array.of(0, 7, 255), UINT16: Uint16Array.of(1, 2, 65535), UINT32: Uint32Array.of(2, 3, 4294967295),
  UINT64: BigUint64Array.of(3n, 4n, 18446744073709551615n), INT8: Int8Array.of(-128, 0, 127), INT16: Int16Array.of(-32768, 1, 32767),
  INT32: Int32Array.of(-2147483648, 5, 2147483647), INT64: BigInt64Array.of(-9223372036854775808n, 0n, 9007199254740993n),
  FP16: Uint16Array.of(0x3800, 0xc000, 0x6400), FP32: Float32Array.of(1.5, -0.25, 3), FP64: Float64Array.of(Math.PI, -1e300, 0),
  BYTES: ['héllo', '', 'x y'],
};

const features = (rows: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: 128 }, (_, i) => ((r * 31 + i) % 17) / 17));

describe('serval serve over gRPC, end to end', () => {
  let serval: ServalProcess;
  let client: InferenceClient;

  beforeAll(async () => {
    const repo = tempRepository(['fraud_mlp', 'tabular_mixed', 'identity_all_types']);
    serval = await startServal(['--model-repository', repo]);
    const port = /gRPC listening on [^\s:]+:(\d+)/.exec(serval.output())?.[1];
    expect(port, serval.output()).toBeDefined();
    client = inferenceClient(`127.0.0.1:${port}`);
  });
  afterAll(async () => {
    client?.close();
    expect(await serval?.stop('SIGTERM')).toBe(0);
  });

  it('health, metadata and config of a real model', async () => {
    expect(await client.call('ServerReady')).toEqual({ ready: true });
    expect(await client.call('ModelMetadata', { name: 'fraud_mlp' })).toMatchObject({
      name: 'fraud_mlp', versions: ['1'], inputs: [{ name: 'features', datatype: 'FP32', shape: ['-1', '128'] }],
    });
    expect((await client.call('ModelConfig', { name: 'fraud_mlp' }))['config']).toMatchObject({ name: 'fraud_mlp', max_batch_size: 256 });
  });

  it('fraud_mlp: the gRPC answer equals the HTTP answer', async () => {
    const rows = features(3);
    const http = await call(serval.url, 'POST', '/v2/models/fraud_mlp/infer', {
      inputs: [{ name: 'features', shape: [3, 128], datatype: 'FP32', data: rows }],
    });
    const grpc = await client.call('ModelInfer', {
      model_name: 'fraud_mlp',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 128] }],
      raw_input_contents: [rawBytes(Float32Array.from(rows.flat()))],
    });
    expect(grpc['outputs']).toMatchObject([{ name: 'probability', datatype: 'FP32', shape: ['3', '1'] }]);
    expect(Array.from(asFloat32(grpc['raw_output_contents'][0]))).toEqual(http.json.outputs[0].data);
  });

  it('every datatype through identity_all_types: raw contents come back byte for byte', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'identity_all_types',
      inputs: DATA_TYPES.map((t) => ({ name: `in_${t.toLowerCase()}`, datatype: t, shape: [1, 3] })),
      raw_input_contents: DATA_TYPES.map((t) => Buffer.from(tensorDataToBinary(t, SAMPLES[t]))),
    });
    const outputs = res['outputs'] as Message[];
    for (const t of DATA_TYPES) {
      const i = outputs.findIndex((o) => o['name'] === `out_${t.toLowerCase()}`);
      expect(outputs[i], t).toMatchObject({ datatype: t, shape: ['1', '3'] });
      expect(Buffer.from(res['raw_output_contents'][i]), t).toEqual(Buffer.from(tensorDataToBinary(t, SAMPLES[t])));
    }
  });

  it('typed 64-bit contents are exact (identity_all_types)', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'identity_all_types',
      parameters: { binary_data_output: { bool_param: false } },
      inputs: DATA_TYPES.map((t) => ({ name: `in_${t.toLowerCase()}`, datatype: t, shape: [1, 3] })),
      raw_input_contents: DATA_TYPES.map((t) => Buffer.from(tensorDataToBinary(t, SAMPLES[t]))),
      outputs: [{ name: 'out_int64' }, { name: 'out_uint64' }],
    });
    expect(res['outputs'][0].contents.int64_contents).toEqual(['-9223372036854775808', '0', '9007199254740993']);
    expect(res['outputs'][1].contents.uint64_contents).toEqual(['3', '4', '18446744073709551615']);
  });

  it('tabular_mixed: typed INT64, BOOL and BYTES contents', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'tabular_mixed',
      parameters: { binary_data_output: { bool_param: false } },
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: ['1099511627776', '1', '2', '3'] } },
        { name: 'flags', datatype: 'BOOL', shape: [1, 4], contents: { bool_contents: [false, false, true, false] } },
        { name: 'text', datatype: 'BYTES', shape: [1, 1], contents: { bytes_contents: [Buffer.from('grüß')] } },
      ],
      outputs: [{ name: 'id_sum' }, { name: 'any_flag' }, { name: 'text_out' }],
    });
    const [sum, flag, text] = res['outputs'] as Message[];
    expect(sum!['contents'].int64_contents).toEqual(['1099511627782']);
    expect(flag!['contents'].bool_contents).toEqual([true]);
    expect(Buffer.from(text!['contents'].bytes_contents[0]).toString()).toBe('grüß');
  });

  it('bad input: a wrong shape is INVALID_ARGUMENT, an unknown model NOT_FOUND, and the server goes on', async () => {
    const wrong = await rejected(client.call('ModelInfer', {
      model_name: 'fraud_mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 127] }], raw_input_contents: [Buffer.alloc(127 * 4)],
    }));
    expect(wrong.code).toBe(status.INVALID_ARGUMENT);
    const unknown = await rejected(client.call('ModelInfer', {
      model_name: 'nope', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128] }], raw_input_contents: [Buffer.alloc(128 * 4)],
    }));
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect(await client.call('ServerLive')).toEqual({ live: true });
  });

  it('ModelStreamInfer: 64 requests in flight on one stream are all answered, with no listener-leak warning', async () => {
    const stream = client.raw['ModelStreamInfer']!() as NodeJS.ReadWriteStream & { on(e: 'status', l: (s: { code: number }) => void): void };
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<number>((resolve) => stream.on('status', (st) => resolve(st.code)));
    const row = rawBytes(Float32Array.from(features(1).flat()));
    for (let i = 0; i < 64; i++) {
      stream.write({ model_name: 'fraud_mlp', id: `r${i}`, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128] }], raw_input_contents: [row] });
    }
    stream.end();
    expect(await ended).toBe(status.OK);
    expect(answers.map((a) => a['error_message'])).toEqual(Array(64).fill(''));
    expect(answers.map((a) => a['infer_response'].id).sort()).toEqual(Array.from({ length: 64 }, (_, i) => `r${i}`).sort());
    expect(serval.output()).not.toMatch(/MaxListenersExceededWarning/);
  });

  it('ModelStatistics counts the gRPC inferences', async () => {
    const { model_stats } = await client.call('ModelStatistics', { name: 'fraud_mlp' });
    expect(Number(model_stats[0].inference_stats.success.count)).toBeGreaterThanOrEqual(2);
    expect(Number(model_stats[0].last_inference)).toBeGreaterThan(0);
  });
});
