/**
 * Bearer-token auth and explicit model control: health and metrics stay open, everything else needs
 * the token; load/unload need the token and explicit mode.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { BearerAuth } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { ServalError } from '../src/errors.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';

const TOKEN = 's3cret-token';

describe('bearer auth and explicit model control', () => {
  let server: RunningServer;
  let fake: FakeRuntime;
  const get = async (p: string, method = 'GET', token?: string) => {
    const res = await request(server.url + p, { method: method as 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text.startsWith('#') ? '{}' : text) : undefined };
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'serval-auth-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    fake = new FakeRuntime();
    server = await startServer({ runtime: fake, port: 0, auth: BearerAuth.fromFile(file), modelControlMode: 'explicit', transport: 'node' });
  });
  afterAll(() => server.close());

  it('health and metrics need no token', async () => {
    expect((await get('/v2/health/live')).status).toBe(200);
    expect((await get('/v2/health/ready')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
  });

  it('everything else answers 401 with WWW-Authenticate without the right token', async () => {
    for (const [p, m] of [['/v2', 'GET'], ['/v2/models/scorer', 'GET'], ['/v2/models/stats', 'GET'], ['/v2/repository/index', 'POST'], ['/v2/nope', 'GET']]) {
      const r = await get(p!, m);
      expect(r.status, p).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.body.error).toMatch(/bearer token/);
      expect((await get(p!, m, 'wrong')).status, p).toBe(401);
    }
    expect((await get('/v2', 'GET', TOKEN)).status).toBe(200);
    expect((await get('/v2/models/scorer', 'GET', TOKEN)).status).toBe(200);
  });

  it('load and unload need the token; explicit mode allows them', async () => {
    expect((await get('/v2/repository/models/extra/load', 'POST')).status).toBe(401);
    expect((await get('/v2/repository/models/extra/load', 'POST', TOKEN)).status).toBe(200);
    expect(fake.calls).toContain('load extra');
    expect((await get('/v2/models/extra/ready', 'GET', TOKEN)).status).toBe(200);
    expect((await get('/v2/repository/models/extra/unload', 'POST', TOKEN)).status).toBe(200);
    expect((await get('/v2/models/extra/ready', 'GET', TOKEN)).status).toBe(404);
  });

  it('bad input: load errors keep their status; traversal names never reach the runtime', async () => {
    const broken = await get('/v2/repository/models/broken/load', 'POST', TOKEN);
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/config.pbtxt/);
    const calls = fake.calls.length;
    expect((await get('/v2/repository/models/..%2F..%2Ftmp/load', 'POST', TOKEN)).status).toBe(400);
    expect((await get('/v2/repository/models/.hidden/load', 'POST', TOKEN)).status).toBe(400);
    expect(fake.calls.length).toBe(calls);
  });

  it('bad input: empty or unreadable token files are rejected at startup', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'serval-auth-'));
    writeFileSync(path.join(dir, 'empty'), '  \n');
    for (const f of [path.join(dir, 'empty'), path.join(dir, 'missing')]) {
      try {
        BearerAuth.fromFile(f);
        throw new Error('expected a failure');
      } catch (err) {
        expect((err as ServalError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });

  it('tokens compare exactly', () => {
    const auth = new BearerAuth(TOKEN);
    expect(auth.accepts(`Bearer ${TOKEN}`)).toBe(true);
    expect(auth.accepts(`bearer ${TOKEN}`)).toBe(true);
    expect(auth.accepts(`Bearer ${TOKEN}x`)).toBe(false);
    expect(auth.accepts(TOKEN)).toBe(false);
    expect(auth.accepts(undefined)).toBe(false);
    expect(auth.accepts('Bearer ')).toBe(false);
  });
});
