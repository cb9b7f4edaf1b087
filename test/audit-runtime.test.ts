// The audit trail through the runtime and the server: every request, answered or failed, gets one record
// (its id, model, version, status, input hash taken at the call, outputs); close writes them all and the
// trail verifies; SIGTERM under HTTP load loses no record of an answered request.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { queryTrail, type StoredRecord } from '../src/audit/audit-query.js';
import { hashInputs, type DecisionRecord } from '../src/audit/audit-record.js';
import { verifyTrail } from '../src/audit/audit-verify.js';
import { Runtime } from '../src/index.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { rejected } from './helpers/caught.js';
import { startServer } from '../src/server/server.js';
import { inferenceClient } from './fixtures/grpc-client.js';
import { startServal, tempRepository } from './fixtures/serval-process.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'serval-audit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const decisions = (dir: string) => [...queryTrail(dir, {})].filter((r): r is StoredRecord & DecisionRecord => r.kind === 'decision');

describe('audit trail through Runtime', () => {
  it('records every request, answered or refused, and close leaves a trail that verifies', async () => {
    const dir = tempDir();
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'], audit: { path: dir } });
    const data = new Float32Array(128).fill(0.25);
    const x = { features: { data, dims: [1, 128] } };
    const expectedHash = hashInputs(x);
    const answered = await Promise.all(Array.from({ length: 300 }, (_, i) => rt.infer('fraud_mlp', x, { requestId: `ok-${i}`, audit: { arm: 'canary', fields: { user: i } } })));
    data.fill(9); // the caller reuses its array: the record keeps the hash taken at the call
    expect((await rejected(rt.infer('fraud_mlp', { features: { data: new Float32Array(3), dims: [1, 3] } }, { requestId: 'bad' }))).code).toBe('INVALID_INPUT');
    expect((await rejected(rt.infer('missing', x, { requestId: 'unknown' }))).code).toBe('UNKNOWN_MODEL');
    // Annotations the store could not serialise are the caller's error, told at the call (no record: it never ran).
    expect((await rejected(rt.infer('fraud_mlp', x, { audit: { fields: { n: 1n } as never } }))).code).toBe('INVALID_ARGUMENT');
    await rt.close();

    expect(verifyTrail(dir)).toMatchObject({ ok: true, verified: 302 });
    const all = decisions(dir);
    expect(all).toHaveLength(302);
    const ok = all.find((r) => r.id === 'ok-7')!;
    expect(ok).toMatchObject({ model: 'fraud_mlp', version: 1, status: 'OK', arm: 'canary', fields: { user: 7 }, inputHash: expectedHash, placement: 'least_outstanding', admission: 'none' });
    expect(ok.outputs!['probability']!.data[0]).toBeCloseTo(answered[7]!['probability']!.data[0] as number, 6);
    // Where it ran and how long it waited and ran, as the runtime reported them for this request.
    expect([0, 1]).toContain(ok.instance);
    expect(ok.queueMs).toBeGreaterThanOrEqual(0);
    expect(ok.computeMs).toBeGreaterThan(0);
    expect(all.find((r) => r.id === 'bad')).toMatchObject({ status: 'INVALID_INPUT' });
    expect(all.find((r) => r.id === 'unknown')).toMatchObject({ status: 'UNKNOWN_MODEL' });
    expect(new Set(all.map((r) => r.id)).size).toBe(302);
  });

  it('writerThread main writes the same chain on the serving thread', async () => {
    const dir = tempDir();
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'], audit: { path: dir, writerThread: 'main', checkpointEvery: 10 } });
    const x = { features: { data: new Float32Array(128), dims: [1, 128] } };
    await Promise.all(Array.from({ length: 25 }, (_, i) => rt.infer('fraud_mlp', x, { requestId: `m${i}` })));
    await rt.close();
    expect(verifyTrail(dir)).toMatchObject({ ok: true, verified: 25, warnings: [] });
  });

  it('bad input: audit options are checked at open, naming the option', async () => {
    for (const [audit, pattern] of [
      [{ path: '' }, /audit\.path/],
      [{ path: 'x', overflow: 'sometimes' }, /audit\.overflow must be one of block, drop, fail-closed/],
      [{ path: 'x', maxBuffered: 0 }, /audit\.maxBuffered must be an integer >= 1/],
      [{ path: 'x', flushMs: 3 }, /unknown option\(s\) flushMs/],
      [{ path: 'x', writerThread: 'gpu' }, /audit\.writerThread must be worker or main/],
      [{ path: '/proc/version/audit' }, /cannot open the audit trail/],
    ] as const) {
      const err = await rejected(Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: 'none', audit: audit as never }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(pattern);
    }
  });
});

describe('audit trail under serval serve', () => {
  it('HTTP and gRPC requests are recorded under their request ids', async () => {
    const dir = tempDir();
    const server = await startServer({ runtimeOptions: { modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'], audit: { path: dir } }, port: 0, grpcPort: 0 });
    const client = inferenceClient(`127.0.0.1:${server.grpcPort}`);
    cleanups.push(() => server.close(), () => client.close());
    const data = new Array(128).fill(0.5);
    const http = await request(`${server.url}/v2/models/fraud_mlp/infer`, { method: 'POST', body: JSON.stringify({ id: 'via-http', inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP32', data }] }) });
    expect(http.statusCode).toBe(200);
    await http.body.dump();
    await client.call('ModelInfer', {
      id: 'via-grpc', model_name: 'fraud_mlp', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128] }],
      raw_input_contents: [Buffer.from(Float32Array.from(data).buffer)],
    });
    await server.close();
    const byId = new Map(decisions(dir).map((d) => [d.id, d]));
    expect(byId.get('via-http')).toMatchObject({ status: 'OK', model: 'fraud_mlp', version: 1 });
    expect(byId.get('via-grpc')).toMatchObject({ status: 'OK', model: 'fraud_mlp', version: 1 });
    // The same tensor over both protocols hashes alike.
    expect(byId.get('via-grpc')!.inputHash).toBe(byId.get('via-http')!.inputHash);
  });

  it('SIGTERM under load: every answered request has its record, and the trail verifies', async () => {
    const dir = tempDir();
    const repo = tempRepository(['fraud_mlp']);
    cleanups.push(() => rmSync(repo, { recursive: true, force: true }));
    const server = await startServal(['--model-repository', repo, '--audit-log', dir, '--drain-timeout-secs', '10']);
    cleanups.push(() => server.stop('SIGKILL'));
    const answered: string[] = [];
    let stopping = false;
    const body = (id: string) => JSON.stringify({ id, inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP32', data: new Array(128).fill(0.5) }] });
    const worker = async () => {
      while (!stopping || answered.length < 50) {
        const id = randomUUID();
        try {
          const res = await request(`${server.url}/v2/models/fraud_mlp/infer`, { method: 'POST', body: body(id), headers: { 'content-type': 'application/json' } });
          const json = await res.body.json() as { id?: string };
          if (res.statusCode === 200) { expect(json.id).toBe(id); answered.push(id); }
        } catch {
          return; // the listener closed
        }
        if (stopping && answered.length >= 50) return;
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    while (answered.length < 200) await new Promise((r) => setTimeout(r, 5));
    stopping = true;
    const code = await server.stop('SIGTERM');
    await Promise.all(workers);
    expect(code).toBe(0);
    const r = verifyTrail(dir);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([]); // the closing checkpoint covers the last record
    const recorded = new Set(decisions(dir).map((d) => d.id));
    const missing = answered.filter((id) => !recorded.has(id));
    expect(missing).toEqual([]);
    expect(answered.length).toBeGreaterThanOrEqual(200);
  });
});
