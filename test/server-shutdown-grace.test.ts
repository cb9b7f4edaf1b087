/**
 * SIGTERM under keep-alive load: readiness turns false at once, while requests on open connections
 * (and new ones) are still served for the shutdown grace period; then serval drains and exits 0.
 * Each client keeps sending until it has seen readiness false, then sends 20 more: every answer is 200.
 */
import { describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { startServal, tempRepository } from './fixtures/serval-process.js';

const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
const AFTER_UNREADY = 20;

describe.each(['uws', 'node'] as const)('SIGTERM with a shutdown grace period (%s)', (transport) => {
  it('zero failed requests on keep-alive connections inside the grace period; readiness false at once', async () => {
    const repo = tempRepository(['slow_identity']);
    const serval = await startServal(['--model-repository', repo, '--shutdown-grace-secs', '4'], { SERVAL_HTTP_TRANSPORT: transport });
    const pool = new Pool(serval.url, { connections: 8, pipelining: 1 });
    const get = async (path: string) => {
      const r = await pool.request({ path, method: 'GET' });
      await r.body.text();
      return r.statusCode;
    };
    expect(await get('/v2/health/ready')).toBe(200);
    let unready = false;
    let signalled = false;
    const failures: string[] = [];
    let servedAfterSignal = 0;
    const client = async (): Promise<void> => {
      let left = AFTER_UNREADY;
      while (left > 0) {
        if (unready) left--;
        const wasSignalled = signalled;
        try {
          const r = await pool.request({ path: '/v2/models/slow_identity/infer', method: 'POST', body });
          const text = await r.body.text();
          if (r.statusCode !== 200) failures.push(`${r.statusCode} ${text}`);
          else if (wasSignalled) servedAfterSignal++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await new Promise((r) => setTimeout(r, 200));
    const exit = serval.stop('SIGTERM');
    signalled = true;
    // Readiness turns false promptly, on a kept-alive connection; liveness stays true.
    await expect.poll(() => get('/v2/health/ready'), { timeout: 2000, interval: 20 }).toBe(503);
    unready = true;
    expect(await get('/v2/health/live')).toBe(200);
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(servedAfterSignal).toBeGreaterThanOrEqual(6 * AFTER_UNREADY);
    expect(await exit).toBe(0);
    expect(serval.output()).toMatch(/SIGTERM: draining: readiness is false now; serving 4 s more/);
    await pool.destroy();
  });
});
