/**
 * Server readiness (`GET /v2/health/ready`): Triton's strict rule by default (every model the server
 * was asked to load is ready), or, with `strictReadiness: false`, ready while the server is up and
 * not shutting down. Also through `serval serve --strict-readiness`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/server/logger.js';
import { ServerMetrics } from '../src/server/metrics.js';
import { createRoutes } from '../src/server/routes.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';
import { startServal } from './fixtures/serval-process.js';
import { call } from './fixtures/http-call.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One model that loads and one whose config names an input the ONNX file lacks. */
function repoWithOneBadModel(): string {
  const repo = makeRepo([
    { name: 'good', from: 'slow_identity', config: slowIdentityConfig() },
    { name: 'bad', from: 'slow_identity', config: 'name: "bad"\nmax_batch_size: 8\ninput [ { name: "nope" data_type: TYPE_FP32 dims: [ 4 ] } ]' },
  ]);
  cleanups.push(repo.cleanup);
  return repo.root;
}

async function serve(options: { strictReadiness?: boolean; transport: 'uws' | 'node' }): Promise<RunningServer> {
  const server = await startServer({ runtimeOptions: { modelRepository: repoWithOneBadModel() }, port: 0, ...options });
  cleanups.push(() => server.close());
  return server;
}

describe.each(['uws', 'node'] as const)('readiness on %s', (transport) => {
  it('strict (default): a model that failed to load keeps the server unready; the good one serves', async () => {
    const server = await serve({ transport });
    const ready = await call(server.url, 'GET', '/v2/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ ready: false });
    expect((await call(server.url, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await call(server.url, 'GET', '/v2/models/good/ready')).status).toBe(200);
  });

  it('strictReadiness false: ready while the server is up, though a model failed to load', async () => {
    const server = await serve({ transport, strictReadiness: false });
    expect((await call(server.url, 'GET', '/v2/health/ready')).json).toEqual({ ready: true });
    expect((await call(server.url, 'GET', '/v2/models/bad/ready')).status).toBe(503);
  });
});

describe('readiness while shutting down', () => {
  it.each([true, false])('strictReadiness %s: 503 once shutdown begins', async (strictReadiness) => {
    const fake = new FakeRuntime();
    let draining = false;
    const handle = createRoutes({
      runtime: fake, metrics: new ServerMetrics(fake), logger: silentLogger, modelControlMode: 'none', serverVersion: '0',
      isDraining: () => draining, strictReadiness,
    });
    const ready = async () => (await handle({ method: 'GET', path: '/v2/health/ready', query: '', headers: {}, body: Buffer.alloc(0), handle: {} })).status;
    expect(await ready()).toBe(200);
    draining = true;
    expect(await ready()).toBe(503);
  });
});

describe('serval serve --strict-readiness', () => {
  it.each([['true', 503], ['false', 200]] as const)('--strict-readiness %s with a model that failed to load → %i', async (flag, status) => {
    const serval = await startServal(['--model-repository', repoWithOneBadModel(), '--strict-readiness', flag]);
    try {
      expect((await call(serval.url, 'GET', '/v2/health/ready')).status).toBe(status);
    } finally {
      expect(await serval.stop()).toBe(0);
    }
  });
});
