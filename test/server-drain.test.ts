/**
 * Graceful shutdown: with requests in flight, drain() turns readiness off, stops accepting and
 * answers every accepted request before closing the runtime.
 */
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { silentLogger } from '../src/server/logger.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { createRoutes } from '../src/server/routes.js';
import { startServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';

const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [1] }] });

describe.each(['uws', 'node'] as const)('drain on %s', (transport) => {
  it('answers every accepted request, then refuses new connections', async () => {
    const fake = new FakeRuntime();
    fake.slowMs = 400;
    const server = await startServer({ runtime: fake, port: 0, transport });
    const inflight = Array.from({ length: 16 }, () =>
      request(`${server.url}/v2/models/slow/infer`, { method: 'POST', body }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() })),
    );
    await new Promise((r) => setTimeout(r, 150)); // all 16 are inside the runtime now
    const drained = server.drain(5000);
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
    await drained;
    expect(fake.calls).toContain('close');
    await expect(request(`${server.url}/v2/health/live`)).rejects.toThrow();
  });

  it('bounded: requests still running past the drain timeout get 503, never hang', async () => {
    const fake = new FakeRuntime();
    fake.slowMs = 2000;
    const server = await startServer({ runtime: fake, port: 0, transport });
    const pending = request(`${server.url}/v2/models/slow/infer`, { method: 'POST', body }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() }));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.drain(200);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(await pending).toEqual({ status: 503, body: { error: 'server is shutting down' } });
  });
});

describe('readiness while draining', () => {
  it('GET /v2/health/ready turns 503 once shutdown begins; liveness stays 200', async () => {
    const fake = new FakeRuntime();
    let draining = false;
    const handle = createRoutes({
      runtime: fake, metrics: new ServerMetrics(fake), logger: silentLogger, modelControlMode: 'none', serverVersion: '0',
      isDraining: () => draining,
    });
    const get = async (path: string) => (await handle({ method: 'GET', path, query: '', headers: {}, body: Buffer.alloc(0), handle: {} })).status;
    expect(await get('/v2/health/ready')).toBe(200);
    draining = true;
    expect(await get('/v2/health/ready')).toBe(503);
    expect(await get('/v2/health/live')).toBe(200);
  });
});
