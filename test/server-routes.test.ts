/**
 * The v2 REST routes against a fake runtime, on both transports: every endpoint, JSON and binary
 * bodies, every datatype, and the error table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_TYPES, type DataType } from '../src/dtypes.js';
import { call } from './fixtures/http-call.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';

const SAMPLES: Record<DataType, unknown[]> = {
  BOOL: [true, false], UINT8: [0, 255], UINT16: [1, 65535], UINT32: [2, 4294967295], UINT64: [3, 2 ** 53 - 1],
  INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 5], INT64: [-(2 ** 53 - 1), 7],
  FP16: [0.5, -2], FP32: [1.5, -0.25], FP64: [Math.PI, -1e300], BYTES: ['héllo', ''],
};

describe.each(['uws', 'node'] as const)('v2 routes on %s', (transport) => {
  let server: RunningServer;
  let fake: FakeRuntime;
  let base: string;

  beforeAll(async () => {
    fake = new FakeRuntime();
    server = await startServer({ runtime: fake, port: 0, transport, maxBodyMb: 1 });
    base = server.url;
    expect(server.transport).toBe(transport);
  });
  afterAll(() => server.close());

  it('GET /v2 lists the server and its extensions', async () => {
    const r = await call(base, 'GET', '/v2');
    expect(r.status).toBe(200);
    expect(r.json.name).toBe('serval');
    expect(r.json.extensions).toContain('binary_tensor_data');
  });

  it('health: live and ready', async () => {
    expect((await call(base, 'GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await call(base, 'GET', '/v2/health/ready')).status).toBe(200);
  });

  it('model metadata, readiness and config (with and without version)', async () => {
    const meta = await call(base, 'GET', '/v2/models/scorer');
    expect(meta.status).toBe(200);
    expect(meta.json.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
    expect((await call(base, 'GET', '/v2/models/scorer/versions/1')).status).toBe(200);
    expect((await call(base, 'GET', '/v2/models/scorer/ready')).json).toEqual({ name: 'scorer', ready: true });
    expect((await call(base, 'GET', '/v2/models/scorer/versions/1/ready')).status).toBe(200);
    const cfg = await call(base, 'GET', '/v2/models/scorer/config');
    expect(cfg.json).toMatchObject({
      name: 'scorer', max_batch_size: 8,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'probability', data_type: 'TYPE_FP32', dims: [1], reshape: { shape: [1] } }],
      parameters: { intra_op_thread_count: { string_value: '1' } },
      version_policy: { latest: { num_versions: 1 } },
    });
  });

  it('infers with a JSON body: id echoed, version reported, parameters passed on', async () => {
    const r = await call(base, 'POST', '/v2/models/scorer/infer', {
      id: 'abc',
      parameters: { priority: 1, timeout: 250000 },
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [[1, 2, 3, 4], [0, 0, 0, 4]] }],
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      model_name: 'scorer', model_version: '1', id: 'abc',
      outputs: [{ name: 'probability', datatype: 'FP32', shape: [2, 1], data: [2.5, 1] }],
    });
    expect(fake.lastOptions).toMatchObject({ priority: 1, timeoutMs: 250 });
    const v = await call(base, 'POST', '/v2/models/scorer/versions/1/infer', {
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [4, 4, 4, 4] }],
    });
    expect(v.json.model_version).toBe('1');
    expect(fake.lastOptions?.version).toBe(1);
  });

  it('infers with binary input and binary output (Inference-Header-Content-Length)', async () => {
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
      outputs: [{ name: 'probability', parameters: { binary_data: true } }],
    }));
    const body = Buffer.concat([header, Buffer.from(new Float32Array([1, 1, 1, 5]).buffer)]);
    const r = await call(base, 'POST', '/v2/models/scorer/infer', body, {
      'inference-header-content-length': String(header.length),
      'content-type': 'application/octet-stream',
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    const n = Number(r.headers['inference-header-content-length']);
    const head = JSON.parse(r.raw.subarray(0, n).toString());
    expect(head.outputs[0].parameters).toEqual({ binary_data_size: 4 });
    expect(r.raw.subarray(n).readFloatLE(0)).toBe(2);
  });

  it('echoes every datatype through JSON and through binary_data_output', async () => {
    const inputs = DATA_TYPES.map((t) => ({ name: `t_${t}`, shape: [2], datatype: t, data: SAMPLES[t] }));
    const r = await call(base, 'POST', '/v2/models/echo/infer', { inputs });
    expect(r.status).toBe(200);
    for (const [i, t] of DATA_TYPES.entries()) {
      expect(r.json.outputs[i]).toEqual({ name: `t_${t}`, datatype: t, shape: [2], data: SAMPLES[t] });
    }
    const b = await call(base, 'POST', '/v2/models/echo/infer', { parameters: { binary_data_output: true }, inputs });
    const n = Number(b.headers['inference-header-content-length']);
    const head = JSON.parse(b.raw.subarray(0, n).toString());
    const total = head.outputs.reduce((s: number, o: { parameters: { binary_data_size: number } }) => s + o.parameters.binary_data_size, 0);
    expect(b.raw.length - n).toBe(total);
    // Send the binary outputs straight back as binary inputs: same tensors again.
    const back = Buffer.from(JSON.stringify({ inputs: head.outputs.map((o: Record<string, unknown>) => ({ ...o })) }));
    const again = await call(base, 'POST', '/v2/models/echo/infer', Buffer.concat([back, b.raw.subarray(n)]), {
      'inference-header-content-length': String(back.length),
    });
    expect(again.status).toBe(200);
    expect(again.json.outputs).toEqual(r.json.outputs);
  });

  it('selects outputs', async () => {
    const r = await call(base, 'POST', '/v2/models/echo/infer', {
      inputs: [{ name: 'a', shape: [1], datatype: 'INT32', data: [1] }, { name: 'b', shape: [1], datatype: 'INT32', data: [2] }],
      outputs: [{ name: 'b' }],
    });
    expect(r.json.outputs.map((o: { name: string }) => o.name)).toEqual(['b']);
  });

  describe('error table', () => {
    const fail = (code: string) => call(base, 'POST', '/v2/models/failing/infer', { inputs: [{ name: 'code', shape: [1], datatype: 'BYTES', data: [code] }] });

    it.each([
      ['QUEUE_FULL', 503], ['TIMEOUT', 503], ['MODEL_UNAVAILABLE', 503], ['CLOSED', 503],
      ['EXECUTION_FAILED', 500], ['INVALID_INPUT', 400], ['UNKNOWN_MODEL', 404],
    ])('runtime %s → %i with a JSON error', async (code, status) => {
      const r = await fail(code);
      expect(r.status).toBe(status);
      expect(r.json).toEqual({ error: `fake failure ${code}` });
    });

    it('bad input: malformed JSON → 400', async () => {
      const r = await call(base, 'POST', '/v2/models/scorer/infer', Buffer.from('{"inputs":'));
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/malformed JSON/);
    });
    it('bad input: shape/data mismatch → 400', async () => {
      const r = await call(base, 'POST', '/v2/models/scorer/infer', { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2] }] });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/needs 4 elements/);
    });
    it('bad input: model rejects the tensor → 400', async () => {
      const r = await call(base, 'POST', '/v2/models/scorer/infer', { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] });
      expect(r.status).toBe(400);
    });
    it('unknown model → 404 on every model route', async () => {
      for (const [m, p] of [['GET', '/v2/models/nope'], ['GET', '/v2/models/nope/ready'], ['GET', '/v2/models/nope/stats'], ['POST', '/v2/models/nope/infer'], ['GET', '/v2/models/scorer/versions/9/ready']] as const) {
        const r = await call(base, m, p, m === 'POST' ? { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] } : undefined);
        expect(r.status, p).toBe(404);
        expect(r.json.error, p).toMatch(/unknown model/);
      }
    });
    it('bad input: path traversal and bad versions in URLs → 400', async () => {
      expect((await call(base, 'GET', '/v2/models/..%2F..%2Fetc')).status).toBe(400);
      expect((await call(base, 'GET', '/v2/models/a%00b')).status).toBe(400);
      expect((await call(base, 'GET', '/v2/models/%E0%A4%A')).status).toBe(400);
      expect((await call(base, 'GET', '/v2/models/scorer/versions/abc')).status).toBe(400);
      expect((await call(base, 'GET', '/v2/models/scorer/versions/0')).status).toBe(400);
    });
    it('unknown route → 404, wrong method → 405 with Allow', async () => {
      expect((await call(base, 'GET', '/v3/anything')).status).toBe(404);
      const r = await call(base, 'GET', '/v2/models/scorer/infer');
      expect(r.status).toBe(405);
      expect(r.headers['allow']).toBe('POST');
      expect((await call(base, 'DELETE', '/v2')).status).toBe(405);
    });
    it('body over --max-body-mb → 413 with a JSON error, server keeps serving', async () => {
      // The server answers before reading the rest and closes the connection; depending on timing the
      // client may see the reset before the 413, which HTTP/1.1 allows.
      const r = await call(base, 'POST', '/v2/models/scorer/infer', Buffer.alloc(2 * 1024 * 1024, 32)).catch((e: Error) => e);
      if (!(r instanceof Error)) {
        expect(r.status).toBe(413);
        expect(r.json.error).toMatch(/exceeds the 1 MB limit/);
      }
      expect((await call(base, 'GET', '/v2/health/live')).status).toBe(200);
    });
    it('bad input: binary_data_size without Inference-Header-Content-Length → 400', async () => {
      const r = await call(base, 'POST', '/v2/models/scorer/infer', { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] });
      expect(r.status).toBe(400);
    });
  });

  it('statistics: all models, one model, one version', async () => {
    const all = await call(base, 'GET', '/v2/models/stats');
    expect(all.status).toBe(200);
    const scorer = all.json.model_stats.find((m: { name: string }) => m.name === 'scorer');
    expect(scorer).toMatchObject({ name: 'scorer', version: '1' });
    expect(scorer.inference_count).toBeGreaterThan(0);
    expect(scorer.last_inference).toBeGreaterThan(0);
    expect(Object.keys(scorer.inference_stats)).toEqual(expect.arrayContaining(['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output']));
    expect(scorer.inference_stats.success.count).toBeGreaterThan(0);
    expect(scorer.batch_stats[0]).toMatchObject({ batch_size: expect.any(Number), compute_infer: { count: expect.any(Number) } });
    const one = await call(base, 'GET', '/v2/models/failing/stats');
    expect(one.json.model_stats).toHaveLength(1);
    expect(one.json.model_stats[0].inference_stats.fail.count).toBeGreaterThan(0);
    expect((await call(base, 'GET', '/v2/models/scorer/versions/1/stats')).json.model_stats).toHaveLength(1);
  });

  it('repository index; load/unload refused outside explicit mode', async () => {
    const idx = await call(base, 'POST', '/v2/repository/index');
    expect(idx.status).toBe(200);
    expect(idx.json).toContainEqual({ name: 'scorer', version: '1', state: 'READY', reason: '' });
    const ready = await call(base, 'POST', '/v2/repository/index', { ready: true });
    expect(ready.json.every((e: { state: string }) => e.state === 'READY')).toBe(true);
    const load = await call(base, 'POST', '/v2/repository/models/scorer/load');
    expect(load.status).toBe(403);
    expect(load.json.error).toMatch(/--model-control-mode explicit/);
    expect((await call(base, 'POST', '/v2/repository/models/scorer/unload')).status).toBe(403);
  });

  it('GET /metrics serves Prometheus text', async () => {
    const r = await call(base, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.raw.toString()).toMatch(/serval_inference_request_success_total\{model="scorer",version="1"\} \d+/);
  });
});
