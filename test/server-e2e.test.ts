/**
 * End to end: the built `serval serve` on the bundled models, driven over HTTP with undici, on the
 * uWebSockets.js transport and the node:http fallback. Needs the embedded runtime (src/runtime.ts),
 * the build (npx tsc) and the native addon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, type DataType } from '../src/dtypes.js';
import { call } from './fixtures/http-call.js';
import { parsePrometheusText, sampleValue } from './fixtures/prom-text.js';
import { startServal, tempRepository, type ServalProcess } from './fixtures/serval-process.js';

const features = (rows: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: 128 }, (_, i) => ((r * 31 + i) % 17) / 17));

const SAMPLES: Record<DataType, unknown[]> = {
  BOOL: [true, false, true], UINT8: [0, 7, 255], UINT16: [1, 2, 65535], UINT32: [2, 3, 4294967295], UINT64: [3, 4, 2 ** 53 - 1],
  INT8: [-128, 0, 127], INT16: [-32768, 1, 32767], INT32: [-2147483648, 5, 2147483647], INT64: [-(2 ** 53 - 1), 0, 7],
  FP16: [0.5, -2, 1024], FP32: [1.5, -0.25, 3], FP64: [Math.PI, -1e300, 0], BYTES: ['héllo', '', 'x y'],
};

describe.each(['uws', 'node'] as const)('serval serve end to end (%s)', (transport) => {
  let serval: ServalProcess;
  let base: string;

  beforeAll(async () => {
    const repo = tempRepository(['fraud_mlp', 'tabular_mixed', 'identity_all_types']);
    serval = await startServal(['--model-repository', repo, '--max-body-mb', '1'], { SERVAL_HTTP_TRANSPORT: transport });
    base = serval.url;
  });
  afterAll(async () => {
    expect(await serval?.stop('SIGTERM')).toBe(0);
  });

  it('startup output names the models, policy and URL', () => {
    const out = serval.output();
    expect(out).toMatch(/model fraud_mlp v1 .*state=READY .*instances=\d/);
    expect(out).toMatch(/policy=\w+/);
    expect(out).toMatch(new RegExp(`transport=${transport}`));
  });

  it('server metadata, health and readiness', async () => {
    expect((await call(base, 'GET', '/v2')).json).toMatchObject({ name: 'serval', extensions: expect.arrayContaining(['binary_tensor_data']) });
    expect((await call(base, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await call(base, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await call(base, 'GET', '/v2/models/fraud_mlp/ready')).status).toBe(200);
    expect((await call(base, 'GET', '/v2/models/fraud_mlp/versions/1/ready')).status).toBe(200);
  });

  it('model metadata and config', async () => {
    const meta = await call(base, 'GET', '/v2/models/fraud_mlp');
    expect(meta.json).toMatchObject({
      name: 'fraud_mlp', versions: ['1'],
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 128] }],
      outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
    });
    const cfg = await call(base, 'GET', '/v2/models/fraud_mlp/config');
    expect(cfg.json).toMatchObject({ name: 'fraud_mlp', max_batch_size: 256, input: [{ name: 'features', data_type: 'TYPE_FP32' }] });
  });

  it('fraud_mlp: JSON and binary requests give the same probabilities', async () => {
    const rows = features(3);
    const json = await call(base, 'POST', '/v2/models/fraud_mlp/infer', { id: 'q1', inputs: [{ name: 'features', shape: [3, 128], datatype: 'FP32', data: rows }] });
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ model_name: 'fraud_mlp', model_version: '1', id: 'q1' });
    const out = json.json.outputs[0];
    expect(out).toMatchObject({ name: 'probability', datatype: 'FP32', shape: [3, 1] });
    for (const p of out.data) expect(p >= 0 && p <= 1).toBe(true);

    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'features', shape: [3, 128], datatype: 'FP32', parameters: { binary_data_size: 3 * 128 * 4 } }],
      parameters: { binary_data_output: true },
    }));
    const bin = await call(base, 'POST', '/v2/models/fraud_mlp/infer', Buffer.concat([header, Buffer.from(new Float32Array(rows.flat()).buffer)]), {
      'inference-header-content-length': String(header.length),
    });
    expect(bin.status).toBe(200);
    expect(bin.headers['content-type']).toBe('application/octet-stream');
    const n = Number(bin.headers['inference-header-content-length']);
    const tail = bin.raw.subarray(n);
    expect([0, 1, 2].map((i) => tail.readFloatLE(i * 4))).toEqual(out.data.map((v: number) => Math.fround(v)));
  });

  it('tabular_mixed: INT64, BOOL and BYTES', async () => {
    const r = await call(base, 'POST', '/v2/models/tabular_mixed/infer', {
      inputs: [
        { name: 'ids', shape: [2, 4], datatype: 'INT64', data: [[1, 2, 3, 4], [10, 20, 30, 2 ** 40]] },
        { name: 'flags', shape: [2, 4], datatype: 'BOOL', data: [[false, false, false, false], [false, true, false, false]] },
        { name: 'text', shape: [2, 1], datatype: 'BYTES', data: [['héllo'], ['world']] },
      ],
    });
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.json.outputs.map((o: { name: string }) => [o.name, o]));
    expect(byName.id_sum).toMatchObject({ datatype: 'INT64', shape: [2, 1], data: [10, 60 + 2 ** 40] });
    expect(byName.any_flag).toMatchObject({ datatype: 'BOOL', data: [false, true] });
    expect(byName.text_out).toMatchObject({ datatype: 'BYTES', data: ['héllo', 'world'] });
  });

  it('every datatype through identity_all_types, JSON and binary', async () => {
    const inputs = DATA_TYPES.map((t) => ({ name: `in_${t.toLowerCase()}`, shape: [1, 3], datatype: t, data: SAMPLES[t] }));
    const r = await call(base, 'POST', '/v2/models/identity_all_types/infer', { inputs });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const byName = Object.fromEntries(r.json.outputs.map((o: { name: string }) => [o.name, o]));
    for (const t of DATA_TYPES) {
      expect(byName[`out_${t.toLowerCase()}`], t).toEqual({ name: `out_${t.toLowerCase()}`, datatype: t, shape: [1, 3], data: SAMPLES[t] });
    }
    const b = await call(base, 'POST', '/v2/models/identity_all_types/infer', { inputs, parameters: { binary_data_output: true } });
    const n = Number(b.headers['inference-header-content-length']);
    const head = JSON.parse(b.raw.subarray(0, n).toString());
    const back = Buffer.from(JSON.stringify({
      inputs: head.outputs.map((o: { name: string; datatype: string; shape: number[]; parameters: unknown }) => ({ ...o, name: o.name.replace('out_', 'in_') })),
    }));
    const again = await call(base, 'POST', '/v2/models/identity_all_types/infer', Buffer.concat([back, b.raw.subarray(n)]), {
      'inference-header-content-length': String(back.length),
    });
    expect(again.status).toBe(200);
    expect(again.json.outputs.sort((a: { name: string }, c: { name: string }) => a.name.localeCompare(c.name)))
      .toEqual(r.json.outputs.sort((a: { name: string }, c: { name: string }) => a.name.localeCompare(c.name)));
  });

  it('error table', async () => {
    const infer = (body: unknown, model = 'fraud_mlp') => call(base, 'POST', `/v2/models/${model}/infer`, body);
    const unknown = await infer({ inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP32', data: features(1) }] }, 'nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toEqual(expect.any(String));
    const wrongShape = await infer({ inputs: [{ name: 'features', shape: [1, 127], datatype: 'FP32', data: Array(127).fill(0) }] });
    expect(wrongShape.status).toBe(400);
    const wrongType = await infer({ inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP64', data: Array(128).fill(0) }] });
    expect(wrongType.status).toBe(400);
    const wrongName = await infer({ inputs: [{ name: 'feat', shape: [1, 128], datatype: 'FP32', data: Array(128).fill(0) }] });
    expect(wrongName.status).toBe(400);
    expect((await call(base, 'POST', '/v2/models/fraud_mlp/infer', Buffer.from('{oops'))).status).toBe(400);
    expect((await call(base, 'GET', '/v2/models/fraud_mlp/infer')).status).toBe(405);
    expect((await call(base, 'GET', '/v2/nothing/here')).status).toBe(404);
    expect((await call(base, 'GET', '/v2/models/..%2Fmodels')).status).toBe(400);
    expect((await call(base, 'POST', '/v2/repository/models/fraud_mlp/unload')).status).toBe(403);
    const big = await call(base, 'POST', '/v2/models/fraud_mlp/infer', Buffer.alloc(3 * 1024 * 1024, 32)).catch((e: Error) => e);
    if (!(big instanceof Error)) expect(big.status).toBe(413);
    expect((await call(base, 'GET', '/v2/health/live')).status).toBe(200);
  });

  it('statistics and /metrics move with traffic', async () => {
    const scrape = async () => parsePrometheusText((await call(base, 'GET', '/metrics')).raw.toString());
    const before = await scrape();
    const s0 = sampleValue(before, 'serval_inference_request_success_total', { model: 'fraud_mlp', version: '1' }) ?? 0;
    await Promise.all(Array.from({ length: 8 }, () => call(base, 'POST', '/v2/models/fraud_mlp/infer', { inputs: [{ name: 'features', shape: [2, 128], datatype: 'FP32', data: features(2) }] })));
    const after = await scrape();
    expect(sampleValue(after, 'serval_inference_request_success_total', { model: 'fraud_mlp', version: '1' })).toBe(s0 + 8);
    expect(sampleValue(after, 'serval_inference_count_total', { model: 'fraud_mlp', version: '1' })).toBeGreaterThanOrEqual(16);
    expect(sampleValue(after, 'serval_inference_request_duration_seconds_count', { model: 'fraud_mlp' })).toBeGreaterThanOrEqual(8);
    expect(sampleValue(after, 'serval_model_state', { model: 'fraud_mlp', state: 'READY' })).toBe(1);
    expect(sampleValue(after, 'serval_http_requests_total', { route: '/v2/models/:model/infer', status: '200' })).toBeGreaterThanOrEqual(8);
    const stats = await call(base, 'GET', '/v2/models/fraud_mlp/stats');
    expect(stats.json.model_stats[0]).toMatchObject({ name: 'fraud_mlp', version: '1' });
    expect(stats.json.model_stats[0].inference_stats.success.count).toBeGreaterThanOrEqual(8);
    const idx = await call(base, 'POST', '/v2/repository/index', {});
    expect(idx.json).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'fraud_mlp', state: 'READY' })]));
  });
});
