/**
 * The rollout endpoints over HTTP: bearer-protected; POST starts or steers a rollout, GET reads its state,
 * DELETE ends it; infer responses name the arm that answered (`model_version`), and a request's
 * `parameters.routing_key` keeps it on one arm; /metrics exports the rollout and drift series.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { rolloutScorerConfig, writeRolloutModel } from '../src/model-generator/rollout-repository.js';
import { BearerAuth } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { asFloat32, inferenceClient, rawBytes } from './fixtures/grpc-client.js';

const TOKEN = 'rollout-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const body = (v: number, params?: Record<string, unknown>) => ({
  inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [v, v, v, v] }], ...(params ? { parameters: params } : {}),
});

describe('rollout over HTTP', () => {
  let server: RunningServer;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'serval-rollout-http-'));
    writeRolloutModel(root, 's', { 1: {}, 2: { shift: 3 } }, rolloutScorerConfig('parameters { key: "drift_reference_requests" value { string_value: "20" } }\nparameters { key: "drift_window_requests" value { string_value: "20" } }'));
    writeFileSync(join(root, 'token'), TOKEN);
    const runtime = await Runtime.open({ modelRepository: root });
    server = await startServer({ runtime, port: 0, grpcPort: 0, auth: BearerAuth.fromFile(join(root, 'token')), transport: 'node' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('needs the bearer token', async () => {
    expect((await call(server.url, 'POST', '/v2/models/s/rollout', { strategy: 'canary', stable: '1', candidate: '2' })).status).toBe(401);
    expect((await call(server.url, 'GET', '/v2/models/s/rollout')).status).toBe(401);
  });

  it('answers 404 before a rollout, 400 with the field for a bad spec (bad input)', async () => {
    const none = await call(server.url, 'GET', '/v2/models/s/rollout', undefined, auth);
    expect(none.status).toBe(404);
    expect(none.json.error).toMatch(/has no rollout/);
    const bad = await call(server.url, 'POST', '/v2/models/s/rollout', { strategy: 'canary', stable: '1', candidate: '2', steps: [10, 50] }, auth);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/rollout steps: must end at 100/);
    expect((await call(server.url, 'POST', '/v2/models/nope/rollout', { strategy: 'canary', stable: '1', candidate: '2' }, auth)).status).toBe(404);
    const key = await call(server.url, 'POST', '/v2/models/s/infer', body(1, { routing_key: 5 }), auth);
    expect(key.status).toBe(400);
    expect(key.json.error).toMatch(/routing_key" must be a string/);
  });

  it('starts the issue\'s canary with default guards, names the answering arm, and can be steered and ended', async () => {
    const started = await call(server.url, 'POST', '/v2/models/s/rollout', { strategy: 'canary', stable: '1', candidate: '2', steps: [10, 50, 100], stepSeconds: 3 }, auth);
    expect(started.status).toBe(200);
    expect(started.json).toMatchObject({ strategy: 'canary', phase: 'progressing', weights: { stable: 90, candidate: 10 }, step: { index: 1, of: 3 } });
    const paused = await call(server.url, 'POST', '/v2/models/s/rollout', { action: 'pause' }, auth);
    expect(paused.json.phase).toBe('paused');
    const badAction = await call(server.url, 'POST', '/v2/models/s/rollout', { action: 'skip' }, auth);
    expect(badAction.status).toBe(400);
    await call(server.url, 'POST', '/v2/models/s/rollout', { strategy: 'ab', stable: '1', candidate: '2', weight: 50 }, auth);
    const versions = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await call(server.url, 'POST', '/v2/models/s/infer', body(2), auth);
      expect(r.status).toBe(200);
      expect(r.json.outputs[0].data[0]).toBe(r.json.model_version === '2' ? 4 : 1);
      versions.add(r.json.model_version);
    }
    expect([...versions].sort()).toEqual(['1', '2']);
    const sticky = new Set<string>();
    for (let i = 0; i < 8; i++) sticky.add((await call(server.url, 'POST', '/v2/models/s/infer', body(2, { routing_key: 'acct-9' }), auth)).json.model_version);
    expect(sticky.size).toBe(1);
    const named = await call(server.url, 'POST', '/v2/models/s/versions/1/infer', body(2), auth);
    expect(named.json.model_version).toBe('1');
    const state = await call(server.url, 'GET', '/v2/models/s/rollout', undefined, auth);
    expect(state.json.ab).toMatchObject({ metric: 'latency_ms', test: 'welch' });
    expect(state.json.arms.stable.total.requests + state.json.arms.candidate.total.requests).toBe(38);

    for (let i = 0; i < 40; i++) await call(server.url, 'POST', '/v2/models/s/versions/1/infer', body(i % 7), auth);
    const metrics = (await call(server.url, 'GET', '/metrics')).raw.toString();
    expect(metrics).toMatch(/serval_rollout_candidate_weight_percent\{model="s",strategy="ab",stable="1",candidate="2"\} 50/);
    expect(metrics).toMatch(/serval_rollout_phase\{model="s",phase="progressing"\} 1/);
    expect(metrics).toMatch(/serval_drift_psi\{model="s",version="1",tensor="x",kind="input",feature="0"\} /);
    const stats = await call(server.url, 'GET', '/v2/models/s/versions/1/stats', undefined, auth);
    expect(stats.json.model_stats[0].drift).toMatchObject({ model: 's', version: 1, phase: 'monitoring' });

    expect((await call(server.url, 'DELETE', '/v2/models/s/rollout', undefined, auth)).status).toBe(200);
    expect((await call(server.url, 'GET', '/v2/models/s/rollout', undefined, auth)).status).toBe(404);
    expect((await call(server.url, 'POST', '/v2/models/s/infer', body(2), auth)).json.model_version).toBe('2');
  });

  it('over gRPC: model_version names the arm, routing_key sticks, a non-string routing_key is INVALID_ARGUMENT (bad input)', async () => {
    await call(server.url, 'POST', '/v2/models/s/rollout', { strategy: 'ab', stable: '1', candidate: '2', weight: 50 }, auth);
    const client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
    try {
      const infer = (parameters: Record<string, unknown> = {}) => client.call('ModelInfer', {
        model_name: 's', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [rawBytes(Float32Array.of(2, 2, 2, 2))], parameters,
      }, { token: TOKEN });
      const versions = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const res = await infer();
        expect(asFloat32(res['raw_output_contents'][0])[0]).toBe(res['model_version'] === '2' ? 4 : 1);
        versions.add(res['model_version']);
      }
      expect([...versions].sort()).toEqual(['1', '2']);
      const keyed = new Set<string>();
      for (let i = 0; i < 6; i++) keyed.add((await infer({ routing_key: { string_param: 'acct-1' } }))['model_version']);
      expect(keyed.size).toBe(1);
      const bad = await infer({ routing_key: { int64_param: '3' } }).catch((e) => e);
      expect(bad.code).toBe(3); // INVALID_ARGUMENT
      expect(bad.details).toMatch(/routing_key/);
    } finally {
      client.close();
      await call(server.url, 'DELETE', '/v2/models/s/rollout', undefined, auth);
    }
  });
});
