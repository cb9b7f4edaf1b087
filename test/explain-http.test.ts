// Explanations over HTTP: KServe's explain verb on a v2 request, and `parameters.explain: true` on an
// infer (JSON and binary outputs), whose audit record carries the explanation; bad explain parameters
// are 400 with {error} and do not disturb the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryTrail } from '../src/audit/audit-query.js';
import type { DecisionRecord } from '../src/audit/audit-record.js';
import { verifyTrail } from '../src/audit/audit-verify.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';

const features = Array.from({ length: 128 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
const input = { name: 'features', shape: [1, 128], datatype: 'FP32', data: features };
let server: RunningServer;
let auditDir: string;

beforeAll(async () => {
  auditDir = mkdtempSync(path.join(tmpdir(), 'serval-audit-'));
  server = await startServer({ runtimeOptions: { modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'], audit: { path: auditDir } }, port: 0 });
});
afterAll(async () => {
  await server?.close();
  rmSync(auditDir, { recursive: true, force: true });
});

const additive = (e: { attributions: number[]; prediction: number; baseline: number; additivity_error: number }) =>
  Math.abs(e.attributions.reduce((s, v) => s + v, 0) - (e.prediction - e.baseline)) <= e.additivity_error + 1e-12;

describe('explain over HTTP', () => {
  it('POST /v2/models/fraud_mlp/explain returns per-feature attributions with the budget and the additivity error', async () => {
    const r = await call(server.url, 'POST', '/v2/models/fraud_mlp/explain', {
      id: 'e1', inputs: [input], parameters: { explain_samples: 512, explain_seed: 4 }, explain_background: [new Array(128).fill(0.1)],
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ model_name: 'fraud_mlp', model_version: '1', id: 'e1' });
    const [e] = r.json.explanations;
    expect(e).toMatchObject({ method: 'permutation_shap', output: 'probability', output_index: 0, background: { rows: 1, source: 'request' } });
    expect(e.budget).toMatchObject({ samples: 512, permutations: 4, evaluations: 2 + 4 * 127, truncated: false });
    expect(e.attributions).toHaveLength(128);
    expect(e.standard_error).toHaveLength(128);
    expect(additive(e)).toBe(true);
  });

  it('parameters.explain on an infer answers the outputs with the explanation and records both in the audit trail', async () => {
    const r = await call(server.url, 'POST', '/v2/models/fraud_mlp/infer', { id: 'x1', inputs: [input], parameters: { explain: true } });
    expect(r.status).toBe(200);
    expect(r.json.outputs[0]).toMatchObject({ name: 'probability', shape: [1, 1] });
    expect(r.json.explanation.prediction).toBeCloseTo(r.json.outputs[0].data[0], 5);
    expect(additive(r.json.explanation)).toBe(true);

    // Binary outputs: the explanation goes into the JSON header, whose length header follows.
    const b = await call(server.url, 'POST', '/v2/models/fraud_mlp/infer', { id: 'x2', inputs: [input], parameters: { explain: true, binary_data_output: true } });
    const len = Number(b.headers['inference-header-content-length']);
    const header = JSON.parse(b.raw.subarray(0, len).toString());
    expect(header.explanation.attributions).toHaveLength(128);
    expect(new Float32Array(b.raw.subarray(len).buffer.slice(b.raw.byteOffset + len, b.raw.byteOffset + len + 4))[0]).toBeCloseTo(header.explanation.prediction, 5);

    await (server.runtime as { auditTrail?: { flush(): Promise<void> } }).auditTrail?.flush();
    const [rec] = [...queryTrail(auditDir, { id: 'x1' })] as (DecisionRecord & { seq: number })[];
    expect(rec).toMatchObject({ status: 'OK', model: 'fraud_mlp' });
    expect((rec!.explanation as { attributions: number[] }).attributions).toEqual(r.json.explanation.attributions);
    expect(verifyTrail(auditDir).ok).toBe(true);
  });

  it('an explanation that cannot be computed leaves the prediction intact: explanation_error instead', async () => {
    const r = await call(server.url, 'POST', '/v2/models/fraud_mlp/infer', { inputs: [input], parameters: { explain: true, explain_samples: 10 } });
    expect(r.status).toBe(200);
    expect(r.json.outputs[0].data).toHaveLength(1);
    expect(r.json.explanation_error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(r.json.explanation_error.message).toMatch(/samples 10 is too few/);
  });

  it('bad input: malformed explain parameters and non-tabular requests are 400 with {error}', async () => {
    const cases: [unknown, RegExp][] = [
      [{ inputs: [input], parameters: { explain_samples: 'many' } }, /explain_samples" must be a non-negative integer/],
      [{ inputs: [input], explain_background: [1, 2] }, /explain_background" must be an array of rows/],
      [{ inputs: [{ ...input, shape: [2, 64] }] }, /one row of 128/],
      [{ inputs: [input], parameters: { explain: 'yes' } }, /explain" must be true or false/],
    ];
    for (const [body, pattern] of cases) {
      const r = await call(server.url, 'POST', '/v2/models/fraud_mlp/explain', body);
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json.error).toMatch(pattern);
    }
    const bad = await call(server.url, 'POST', '/v2/models/fraud_mlp/infer', { inputs: [input], parameters: { explain: 'yes' } });
    expect(bad.status).toBe(400);
    expect((await call(server.url, 'POST', '/v2/models/fraud_mlp/infer', { inputs: [input] })).status).toBe(200);
  });
});
