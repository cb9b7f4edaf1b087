/**
 * `--http-threads` (issue 10): HTTP threads share the port with the main thread and answer inference
 * requests to plain models themselves, into the main thread's schedulers; everything else, and anything a
 * model refuses as closed under them, goes to the main thread. Clients must not be able to tell: the same
 * answers, errors, metrics, auth and model control as one thread.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { Runtime } from '../src/index.js';
import { BearerAuth } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rolloutScorerConfig, writeRolloutModel } from '../src/model-generator/rollout-repository.js';
import { ThreadedHttpTransport } from '../src/server/threaded-transport.js';
import { loadNativeUws, UwsTransport } from '../src/server/uws-transport.js';

// Many connections, so that the kernel (SO_REUSEPORT) spreads them over both listeners.
const agent = new Agent({ connections: 64, pipelining: 1 });
afterAll(() => agent.close());

const inferBody = (v: number) => JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [v, v + 1, v + 2, v + 3] }] });

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const r = await request(url, { method: 'POST', body, headers, dispatcher: agent });
  return { status: r.statusCode, json: await r.body.json() };
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function metrics(server: RunningServer): Promise<string> {
  return (await request(`${server.url}/metrics`, { dispatcher: agent })).body.text();
}

describe('HTTP threads', () => {
  const repo = makeRepo([{ name: 'm', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 8 }) }]);
  afterAll(() => repo.cleanup());

  it('answer inference on every thread with the answers, errors and metrics of one thread', async () => {
    const server = await startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 2, transport: 'uws' });
    try {
      expect(server.httpThreads).toBe(2);
      const url = `${server.url}/v2/models/m/infer`;
      for (let round = 0; round < 4; round++) {
        const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => post(i % 2 ? url : `${server.url}/v2/models/m/versions/1/infer`, inferBody(i))));
        answers.forEach((a, i) => {
          expect(a.status).toBe(200);
          expect(a.json).toEqual({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4], data: [i, i + 1, i + 2, i + 3] }] });
        });
      }
      // A malformed request gets the same 400 whichever thread reads it.
      const bad = await Promise.all(Array.from({ length: 32 }, () => post(url, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }))));
      expect(new Set(bad.map((b) => `${b.status} ${b.json.error}`)).size).toBe(1);
      expect(bad[0]!.status).toBe(400);
      // Routes other than infer are the main thread's, from every connection.
      const meta = await Promise.all(Array.from({ length: 16 }, () => request(`${server.url}/v2/models/m`, { dispatcher: agent }).then((r) => r.body.json())));
      for (const m of meta) expect(m).toMatchObject({ name: 'm', versions: ['1'] });
      // Every request is counted once, whichever thread answered it; thread 1 answered some itself.
      await expect.poll(async () => {
        const text = await metrics(server);
        return metric(text, 'serval_http_requests_total', 'route="/v2/models/:model/infer",method="POST",status="200"')
          + metric(text, 'serval_http_requests_total', 'route="/v2/models/:model/versions/:version/infer",method="POST",status="200"');
      }, { timeout: 5000 }).toBe(256);
      const text = await metrics(server);
      expect(metric(text, 'serval_http_requests_total', 'route="/v2/models/:model/infer",method="POST",status="400"')).toBe(32);
      expect(metric(text, 'serval_http_thread_requests_total', 'thread="1"')).toBeGreaterThan(0);
      expect(server.runtime.stats().models[0]!.success).toBe(256);
    } finally {
      await server.drain(5000);
    }
  });

  it('hand requests to the main thread when the model is unloaded or reloaded under them', async () => {
    const server = await startServer({
      runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 2, transport: 'uws', modelControlMode: 'explicit', loadModels: ['m'],
    });
    try {
      const url = `${server.url}/v2/models/m/infer`;
      expect((await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i))))).every((a) => a.status === 200)).toBe(true);
      expect((await request(`${server.url}/v2/repository/models/m/unload`, { method: 'POST', dispatcher: agent })).statusCode).toBe(200);
      // At once, before the threads' table could have changed: the main thread's answer, on every connection.
      const gone = await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i))));
      expect(new Set(gone.map((g) => g.status))).toEqual(new Set([gone[0]!.status]));
      expect(gone[0]!.status).toBeGreaterThanOrEqual(400);
      expect((await request(`${server.url}/v2/repository/models/m/load`, { method: 'POST', dispatcher: agent })).statusCode).toBe(200);
      const back = await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i))));
      expect(back.map((b) => b.status)).toEqual(Array(32).fill(200));
    } finally {
      await server.drain(5000);
    }
  });

  it('outlive a fast close with requests still queued from every thread', async () => {
    // One slow instance, one request at a time: most of these are still queued when the server closes. The
    // HTTP thread's environment goes away while the main thread's scheduler still holds its requests; they
    // complete into its retired dispatcher (native/binding/completion_dispatcher.h), which frees itself.
    const slow = makeRepo([{ name: 's', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 1, batching: '' }) }]);
    const rt = await Runtime.open({ modelRepository: slow.root });
    const server = await startServer({ runtime: rt, port: 0, httpThreads: 2, transport: 'uws' });
    try {
      const answers = Array.from({ length: 64 }, (_, i) => post(`${server.url}/v2/models/s/infer`, inferBody(i)).then((a) => a.status, () => 'reset'));
      await expect.poll(() => rt.stats().models[0]!.pending, { timeout: 5000 }).toBeGreaterThanOrEqual(20);
      await server.close();
      const statuses = await Promise.all(answers);
      for (const s of statuses) expect([200, 503, 'reset']).toContain(s);
      expect(statuses).toContain(503);
    } finally {
      slow.cleanup();
    }
    // The process is still here and a new server on a new runtime serves.
    const again = await startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 2, transport: 'uws' });
    try {
      expect((await post(`${again.url}/v2/models/m/infer`, inferBody(1))).status).toBe(200);
    } finally {
      await again.drain(5000);
    }
  });

  it('leave a model to the main thread once a rollout starts on it, so every request is split', async () => {
    const root = mkdtempSync(join(tmpdir(), 'serval-threads-rollout-'));
    writeRolloutModel(root, 's', { 1: {}, 2: { shift: 3 } }, rolloutScorerConfig());
    const server = await startServer({ runtimeOptions: { modelRepository: root }, port: 0, httpThreads: 2, transport: 'uws' });
    try {
      const rt = server.runtime as Runtime;
      const url = `${server.url}/v2/models/s/infer`;
      expect((await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i))))).every((a) => a.status === 200)).toBe(true);
      rt.rollout('s', { strategy: 'ab', stable: '1', candidate: '2', weight: 50, seed: 5 });
      // Straight after the rollout starts: whichever thread reads them, the rollout sees them all.
      const split = await Promise.all(Array.from({ length: 64 }, (_, i) => post(url, inferBody(i))));
      expect(split.map((a) => a.status)).toEqual(Array(64).fill(200));
      expect(new Set(split.map((a) => a.json.model_version))).toEqual(new Set(['1', '2']));
      const arms = rt.rolloutState('s')!.arms;
      expect(arms.stable.total.requests + arms.candidate.total.requests).toBe(64);
    } finally {
      await server.drain(5000);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('check the bearer token as the main thread does', async () => {
    const server = await startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 2, transport: 'uws', auth: new BearerAuth('s3cret') });
    try {
      const url = `${server.url}/v2/models/m/infer`;
      const denied = await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i), { authorization: 'Bearer wrong' })));
      expect(denied.map((d) => d.status)).toEqual(Array(32).fill(401));
      const allowed = await Promise.all(Array.from({ length: 32 }, (_, i) => post(url, inferBody(i), { authorization: 'Bearer s3cret' })));
      expect(allowed.map((d) => d.status)).toEqual(Array(32).fill(200));
    } finally {
      await server.drain(5000);
    }
  });

  it('serve with one thread on node:http, which cannot share a port between threads', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    const rt = await Runtime.open({ modelRepository: repo.root });
    const server = await startServer({ runtime: rt, port: 0, httpThreads: 2, transport: 'node', logger });
    try {
      expect(server.httpThreads).toBe(1);
      expect(warnings.some((w) => w.includes('--http-threads'))).toBe(true);
      expect((await post(`${server.url}/v2/models/m/infer`, inferBody(1))).status).toBe(200);
    } finally {
      await server.drain(5000);
    }
  });

  it('refuse a thread count out of range', async () => {
    await expect(startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startServer({ runtimeOptions: { modelRepository: repo.root }, port: 0, httpThreads: 64 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('replace a thread that dies while serving, with a fresh index', async () => {
    const loaded = loadNativeUws();
    if (!loaded.ok) throw new Error(loaded.reason);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
    const options = {
      handler: () => ({ status: 200, body: 'main' }), logger, sharePort: true,
      maxBodyBytes: 1 << 20, maxJsonBodyBytes: 1 << 20, maxBufferedBodyBytes: 1 << 24, bodyTimeoutMs: 10_000,
    };
    const transport = new ThreadedHttpTransport({
      threads: 2, main: new UwsTransport(loaded.uws, options), transport: options, handler: options.handler,
      onCounts() {}, onThreadAnswered() {}, onInference() {}, repositoryRoots: [], logger,
    });
    const port = await transport.listen('127.0.0.1', 0);
    const ask = async (): Promise<string[]> => {
      const fresh = new Agent({ connections: 32, pipelining: 1 });
      try {
        return await Promise.all(Array.from({ length: 32 }, () => request(`http://127.0.0.1:${port}/anything`, { dispatcher: fresh }).then((r) => r.body.text())));
      } finally {
        await fresh.close();
      }
    };
    try {
      expect(await ask()).toEqual(Array(32).fill('main'));
      expect(transport.threadIndexes).toEqual([1]);
      transport.crashThread(1);
      await expect.poll(() => transport.threadIndexes, { timeout: 10_000 }).toEqual([2]);
      expect(warnings.some((w) => w.includes('starting thread 2'))).toBe(true);
      expect(await ask()).toEqual(Array(32).fill('main'));
    } finally {
      await transport.close();
    }
  });
});
