/**
 * The bundled pipelines end to end, as `npm start` serves them: `serval serve --model-repository models` loads
 * fraud_pipeline (JS preprocessor → fraud_mlp → JS postprocessor) and fraud_ensemble (three seeded MLPs and the
 * uncertainty reduction), and both answer over HTTP (JSON) and gRPC like any model, with stats and metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './fixtures/http-call.js';
import { asFloat32, inferenceClient, rawBytes, type InferenceClient } from './fixtures/grpc-client.js';
import { parsePrometheusText, sampleValue } from './fixtures/prom-text.js';
import { startServal, type ServalProcess } from './fixtures/serval-process.js';

const TX = { amount: 950, avg_amount_30d: 40, hour: 3, merchant_category: 'electronics', country: 'KR', is_foreign: true, is_online: true, new_device: true };
const features = (rows: number) => Array.from({ length: rows * 128 }, (_, i) => Math.sin(i) / 2);

describe('bundled fraud_pipeline and fraud_ensemble over serval serve', () => {
  let serval: ServalProcess;
  let base: string;
  let client: InferenceClient;

  beforeAll(async () => {
    serval = await startServal(['--model-repository', 'models', '--cache-config', 'local,size=4M']);
    base = serval.url;
    const port = /gRPC listening on [^\s:]+:(\d+)/.exec(serval.output())?.[1];
    client = inferenceClient(`127.0.0.1:${port}`);
  });
  afterAll(async () => {
    client?.close();
    expect(await serval?.stop('SIGTERM')).toBe(0);
  });

  it('every bundled model and ensemble is ready', async () => {
    const index = (await call(base, 'POST', '/v2/repository/index', {})).json as { name: string; state: string }[];
    expect(index.filter((m) => m.state !== 'READY')).toEqual([]);
    expect(index.map((m) => m.name)).toEqual(expect.arrayContaining(['fraud_pipeline', 'fraud_ensemble', 'fraud_preprocess', 'fraud_postprocess']));
    expect((await call(base, 'GET', '/v2/models/fraud_pipeline/ready')).status).toBe(200);
  });

  it('fraud_pipeline: raw transactions in, decisions and reasons out (HTTP JSON)', async () => {
    const res = await call(base, 'POST', '/v2/models/fraud_pipeline/infer', {
      inputs: [{ name: 'transaction', datatype: 'BYTES', shape: [2, 1], data: [JSON.stringify(TX), '{"amount": "lots"}'] }],
    });
    expect(res.status).toBe(200);
    const out = Object.fromEntries((res.json.outputs as { name: string; data: unknown[] }[]).map((o) => [o.name, o.data]));
    expect(['approve', 'review', 'decline']).toContain(out['decision']![0]);
    expect(out['reason']![0]).toMatch(/^fraud probability 0\.\d{3} /);
    expect(out['decision']![1]).toBe('invalid');
    expect(out['reason']![1]).toBe("invalid transaction: field 'amount' must be a finite number");
  });

  it('fraud_pipeline: metadata, config and per-step stats', async () => {
    const meta = (await call(base, 'GET', '/v2/models/fraud_pipeline')).json;
    expect(meta).toMatchObject({ platform: 'ensemble', inputs: [{ name: 'transaction', datatype: 'BYTES', shape: [-1, 1] }] });
    const config = (await call(base, 'GET', '/v2/models/fraud_pipeline/config')).json;
    expect(config.platform).toBe('ensemble');
    expect(config.ensemble_scheduling.step[2]).toEqual({
      model_name: 'fraud_postprocess', model_version: -1,
      input_map: { probability: 'probability', parse_error: 'parse_error' }, output_map: { decision: 'decision', reason: 'reason' },
    });
    const grpcConfig = (await client.call('ModelConfig', { name: 'fraud_pipeline' }))['config'];
    expect(grpcConfig['ensemble_scheduling']['step'][0]).toMatchObject({ model_name: 'fraud_preprocess', input_map: { transaction: 'transaction' } });
    const stats = (await call(base, 'GET', '/v2/models/fraud_pipeline/stats')).json;
    expect(Number(stats.model_stats[0].inference_stats.success.count)).toBeGreaterThan(0);
    expect(Number((await call(base, 'GET', '/v2/models/fraud_preprocess/stats')).json.model_stats[0].inference_stats.success.count)).toBeGreaterThan(0);
  });

  it('fraud_pipeline: bad input is a 400 with the reason (naming the step where a step found it)', async () => {
    const misnamed = await call(base, 'POST', '/v2/models/fraud_pipeline/infer', { inputs: [{ name: 'tx', datatype: 'BYTES', shape: [1, 1], data: ['{}'] }] });
    expect(misnamed.status).toBe(400);
    expect(misnamed.json.error).toContain("unexpected input 'tx' for model 'fraud_pipeline'");
    const mistyped = await call(base, 'POST', '/v2/models/fraud_pipeline/infer', { inputs: [{ name: 'transaction', datatype: 'FP32', shape: [1, 1], data: [1] }] });
    expect(mistyped.status).toBe(400);
    expect(mistyped.json.error).toContain("ensemble 'fraud_pipeline' step 0 ('fraud_preprocess')");
  });

  it('fraud_ensemble: mean, std, vote share and entropy of three members, over HTTP and gRPC alike', async () => {
    const res = await call(base, 'POST', '/v2/models/fraud_ensemble/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 128], data: features(2) }],
    });
    expect(res.status).toBe(200);
    const out = Object.fromEntries((res.json.outputs as { name: string; data: number[] }[]).map((o) => [o.name, o.data]));
    const members = await Promise.all([1, 2, 3].map(async (k) => (await call(base, 'POST', `/v2/models/fraud_mlp_s${k}/infer`, {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 128], data: features(2) }],
    })).json.outputs[0].data as number[]));
    for (let r = 0; r < 2; r++) {
      const p = members.map((m) => m[r]!);
      const mean = p.reduce((a, b) => a + b, 0) / 3;
      const std = Math.sqrt(p.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
      expect(out['probability_mean']![r]).toBeCloseTo(mean, 5);
      expect(out['probability_std']![r]).toBeCloseTo(std, 5);
      const votes = p.filter((x) => x >= 0.5).length;
      expect(out['vote_share']![r]).toBeCloseTo(Math.max(votes, 3 - votes) / 3, 5);
    }
    const grpc = await client.call('ModelInfer', {
      model_name: 'fraud_ensemble',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 128] }],
      raw_input_contents: [rawBytes(Float32Array.from(features(2)))],
      outputs: [{ name: 'probability_std' }],
    });
    expect(grpc['outputs']).toMatchObject([{ name: 'probability_std', datatype: 'FP32', shape: ['2', '1'] }]);
    Array.from(asFloat32(grpc['raw_output_contents'][0])).forEach((v, r) => expect(v).toBeCloseTo(out['probability_std']![r]!, 6));
  });

  it('metrics: per-step requests and the uncertainty histogram', async () => {
    const text = (await call(base, 'GET', '/metrics')).raw.toString();
    const metrics = parsePrometheusText(text);
    expect(sampleValue(metrics, 'serval_ensemble_step_requests_total', { model: 'fraud_pipeline', step: '1', member: 'fraud_mlp', outcome: 'success' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'serval_ensemble_uncertainty_count', { model: 'fraud_ensemble', output: 'probability_std' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(metrics, 'serval_inference_request_success_total', { model: 'fraud_ensemble', version: '1' })).toBeGreaterThan(0);
  });
});
