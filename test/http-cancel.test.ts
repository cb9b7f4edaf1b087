/**
 * A client that goes away while its request is queued cancels it (issue 10: cancellation by request id
 * from the transport's abort callback, no AbortController per request): the runtime counts it CANCELLED and
 * never runs it, and every other request is answered. With HTTP threads, on whichever thread it arrived.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Runtime } from '../src/index.js';
import { startServer } from '../src/server/server.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';

const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });

describe.each([['uws', 1], ['node', 1], ['uws', 2]] as const)('aborted HTTP requests on %s, %i HTTP thread(s)', (transport, httpThreads) => {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 1, batching: '' }) }]);
  afterAll(() => repo.cleanup());

  it('are cancelled while queued; the rest are answered', async () => {
    const rt = await Runtime.open({ modelRepository: repo.root });
    const server = await startServer({ runtime: rt, port: 0, transport, httpThreads });
    try {
      const url = `${server.url}/v2/models/slow/infer`;
      // Forty requests queue behind each other on one instance that runs one at a time (a few ms each).
      const kept = Array.from({ length: 40 }, () => request(url, { method: 'POST', body }).then((r) => r.statusCode));
      const controllers = Array.from({ length: 10 }, () => new AbortController());
      const dropped = controllers.map((c) => request(url, { method: 'POST', body, signal: c.signal }).then(() => 'answered', () => 'aborted'));
      await expect.poll(() => rt.stats().models[0]!.pending, { timeout: 5000 }).toBeGreaterThanOrEqual(20);
      for (const c of controllers) c.abort();
      expect(await Promise.all(kept)).toEqual(Array(40).fill(200));
      await Promise.all(dropped);
      await expect.poll(() => {
        const s = rt.stats().models[0]!;
        return s.success + (s.failure['CANCELLED'] ?? 0);
      }, { timeout: 5000 }).toBe(50);
      expect(rt.stats().models[0]!.failure['CANCELLED'] ?? 0).toBeGreaterThan(0);
    } finally {
      await server.drain(2000);
    }
  });
});
