/**
 * End to end, process lifecycle: explicit model control with auth, SIGTERM drain with requests in
 * flight, and poll-mode reload under load with zero failed requests. Needs the embedded runtime
 * (src/runtime.ts), the build (npx tsc) and the native addon.
 */
import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pool, request } from 'undici';
import { startServal, tempRepository } from './fixtures/serval-process.js';

const fraudBody = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 128], datatype: 'FP32', data: Array.from({ length: 128 }, (_, i) => (i % 7) / 7) }],
});

describe('serval serve lifecycle', () => {
  it('explicit mode with a bearer token: only --load-model models load; load/unload through the API', async () => {
    const repo = tempRepository(['fraud_mlp', 'tabular_mixed']);
    const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'serval-token-')), 'token');
    writeFileSync(tokenFile, 'tok-123\n');
    const serval = await startServal([
      '--model-repository', repo, '--model-control-mode', 'explicit', '--load-model', 'fraud_mlp', '--auth-token-file', tokenFile,
    ]);
    const auth = { authorization: 'Bearer tok-123' };
    const get = (p: string, method = 'POST', headers: Record<string, string> = auth) =>
      request(serval.url + p, { method: method as 'POST', headers }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
    try {
      expect((await get('/v2/health/ready', 'GET', {})).status).toBe(200);
      expect((await get('/metrics', 'GET', {})).status).toBe(200);
      expect((await get('/v2/models/fraud_mlp/ready', 'GET', {})).status).toBe(401);
      expect((await get('/v2/models/fraud_mlp/ready', 'GET')).status).toBe(200);
      expect((await get('/v2/models/tabular_mixed/ready', 'GET')).status).not.toBe(200);
      expect((await get('/v2/repository/models/tabular_mixed/load', 'POST', {})).status).toBe(401);
      expect((await get('/v2/repository/models/tabular_mixed/load')).status).toBe(200);
      expect((await get('/v2/models/tabular_mixed/ready', 'GET')).status).toBe(200);
      expect((await get('/v2/repository/models/tabular_mixed/unload')).status).toBe(200);
      expect((await get('/v2/models/tabular_mixed/ready', 'GET')).status).not.toBe(200);
      expect((await get('/v2/repository/models/not_there/load')).status).toBeGreaterThanOrEqual(400);
    } finally {
      expect(await serval.stop()).toBe(0);
    }
  });

  it('SIGTERM drains: every accepted request is answered 200, then the process exits 0', async () => {
    const repo = tempRepository(['slow_identity']);
    const serval = await startServal(['--model-repository', repo]);
    // Open the connections first, so that every request below is on a connection the server accepted.
    const pool = new Pool(serval.url, { connections: 64, pipelining: 1 });
    await Promise.all(Array.from({ length: 64 }, async () => (await pool.request({ path: '/v2/health/live', method: 'GET' })).body.text()));
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    let signalledAt = Infinity;
    let exit: Promise<number | null> | undefined;
    const results = await Promise.all(Array.from({ length: 64 }, async () => {
      const r = await pool.request({ path: '/v2/models/slow_identity/infer', method: 'POST', body });
      const text = await r.body.text();
      exit ??= (signalledAt = performance.now(), serval.stop('SIGTERM')); // on the first answer: the rest are in flight
      return { status: r.statusCode, text, at: performance.now() };
    }));
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.filter((r) => r.at > signalledAt).length, 'requests still in flight at SIGTERM').toBeGreaterThan(0);
    expect(await exit).toBe(0);
    expect(serval.output()).toMatch(/SIGTERM: draining/);
    await pool.destroy();
  });

  it('poll mode: adding version 2 under load swaps versions with zero failed requests', async () => {
    const repo = tempRepository(['fraud_mlp']);
    const serval = await startServal(['--model-repository', repo, '--model-control-mode', 'poll', '--repository-poll-secs', '0.5']);
    const seen = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await request(`${serval.url}/v2/models/fraud_mlp/infer`, { method: 'POST', body: fraudBody });
          const text = await r.body.text();
          if (r.statusCode !== 200) failures.push(`${r.statusCode} ${text}`);
          else {
            const v = JSON.parse(text).model_version as string;
            seen.set(v, (seen.get(v) ?? 0) + 1);
          }
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Stage the new version next to the model and rename it in, so a poll never sees half a copy.
      const staging = path.join(repo, 'fraud_mlp', '.v2-staging');
      cpSync(path.join(repo, 'fraud_mlp', '1'), staging, { recursive: true });
      renameSync(staging, path.join(repo, 'fraud_mlp', '2'));
      await expect.poll(async () => {
        const r = await request(`${serval.url}/v2/models/fraud_mlp/versions/2/ready`);
        await r.body.text();
        return r.statusCode;
      }, { timeout: 30_000, interval: 200 }).toBe(200);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    expect(seen.get('1')).toBeGreaterThan(0);
    expect(seen.get('2')).toBeGreaterThan(0);
    expect(await serval.stop()).toBe(0);
  });
});
