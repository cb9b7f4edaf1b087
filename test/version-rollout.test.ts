/**
 * Version rollouts: a version that fails to load (garbage or half-copied model.onnx) never replaces the
 * one that serves, whether the reload comes from the embedded API, `POST .../load` in explicit mode, or
 * a repository poll; the failure shows in the repository index. Under load, zero requests fail.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { startServer } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, modelFile, rows, slowIdentityConfig } from './helpers/temp-repo.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const inferBody = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

/** Writes version `version` of `name`: the real ONNX file cut to `fraction` of its bytes (1 = whole). */
function writeVersion(root: string, name: string, version: number, fraction: number | 'garbage'): void {
  mkdirSync(join(root, name, String(version)), { recursive: true });
  const real = readFileSync(modelFile('slow_identity'));
  const bytes = fraction === 'garbage' ? Buffer.from('not an onnx model') : real.subarray(0, Math.floor(real.length * fraction));
  writeFileSync(join(root, name, String(version), 'model.onnx'), bytes);
}

function slowRepo() {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 4 }) }]);
  cleanups.push(repo.cleanup);
  return repo.root;
}

describe('a version that fails to load never replaces one that serves (embedded)', () => {
  it.each([['garbage', 'garbage'], ['half-copied', 0.5]] as const)('%s model.onnx in a new version directory', async (_label, content) => {
    const root = slowRepo();
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    let stop = false;
    let failures = 0;
    let done = 0;
    const load = (async () => {
      while (!stop) {
        await Promise.all(Array.from({ length: 4 }, () => rt.infer('slow', { x: rows(1) }).then(() => { done++; }, () => { failures++; })));
      }
    })();
    writeVersion(root, 'slow', 2, content);
    const err = await rejected(rt.loadModel('slow'));
    stop = true;
    await load;
    expect(err.code).toBe('MODEL_UNAVAILABLE');
    expect(err.message).toMatch(/versions 1 keep serving: version 2: /);
    expect(failures).toBe(0);
    expect(done).toBeGreaterThan(0);
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[1, 'READY'], [2, 'UNAVAILABLE']]);
    expect(rt.models()[1]!.reason).not.toBe('');
    const index = await rt.repositoryIndex();
    expect(index.map((e) => [e.version, e.state])).toEqual([['1', 'READY'], ['2', 'UNAVAILABLE']]);
    expect(rt.isReady()).toBe(true);
    expect(rt.isReady('slow', 2)).toBe(false);
    expect(rt.metadata('slow').versions).toEqual(['1']);
    expect((await rejected(rt.infer('slow', { x: rows(1) }, { version: 2 }))).code).toBe('MODEL_UNAVAILABLE');

    // The copy completes: the next reload moves traffic to version 2 (latest policy) and unloads version 1.
    writeVersion(root, 'slow', 2, 1);
    await rt.loadModel('slow');
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[2, 'READY']]);
    await expect(rt.infer('slow', { x: rows(1) })).resolves.toBeDefined();
  });

  it('a second failed attempt at the same version replaces the first failure, not the serving version', async () => {
    const root = slowRepo();
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    writeVersion(root, 'slow', 2, 'garbage');
    await rejected(rt.loadModel('slow'));
    writeVersion(root, 'slow', 2, 0.3);
    await rejected(rt.loadModel('slow'));
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[1, 'READY'], [2, 'UNAVAILABLE']]);
  });

  it('a broken config.pbtxt on reload leaves the serving version alone', async () => {
    const root = slowRepo();
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    writeFileSync(join(root, 'slow', 'config.pbtxt'), 'name: "slow"\nmax_batch_size: [');
    expect((await rejected(rt.loadModel('slow'))).code).toBeDefined();
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[1, 'READY']]);
    await expect(rt.infer('slow', { x: rows(1) })).resolves.toBeDefined();
  });
});

describe.each(['uws', 'node'] as const)('rollouts over HTTP (%s)', (transport) => {
  it('explicit POST .../load with a bad new version: the old version keeps serving; the index reports the failure', async () => {
    const root = slowRepo();
    const server = await startServer({
      runtimeOptions: { modelRepository: root }, port: 0, transport, modelControlMode: 'explicit', loadModels: ['slow'],
    });
    cleanups.push(() => server.close());
    writeVersion(root, 'slow', 2, 'garbage');
    const load = await call(server.url, 'POST', '/v2/repository/models/slow/load');
    expect(load.status).toBe(503);
    expect(load.json.error).toMatch(/version 2/);
    expect((await call(server.url, 'POST', '/v2/models/slow/infer', inferBody)).json.model_version).toBe('1');
    const index = await call(server.url, 'POST', '/v2/repository/index', {});
    expect(index.json.map((e: { version: string; state: string }) => [e.version, e.state])).toEqual([['1', 'READY'], ['2', 'UNAVAILABLE']]);
    expect((await call(server.url, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await call(server.url, 'GET', '/v2/models/slow/versions/2/ready')).status).toBe(503);
  });

  it('poll mode: a half-copied version directory under load fails zero requests; the finished copy then serves', async () => {
    const root = slowRepo();
    const server = await startServer({
      runtimeOptions: { modelRepository: root }, port: 0, transport, modelControlMode: 'poll', repositoryPollSecs: 0.05,
    });
    cleanups.push(() => server.close());
    const versions = new Map<string, number>();
    const failures: string[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        const r = await call(server.url, 'POST', '/v2/models/slow/infer', inferBody).catch((err: Error) => ({ status: 0, json: { error: err.message } }));
        if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.json)}`);
        else versions.set(r.json.model_version, (versions.get(r.json.model_version) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: 4 }, client);
    const indexStates = async () =>
      (await call(server.url, 'POST', '/v2/repository/index', {})).json.map((e: { version: string; state: string }) => `${e.version}:${e.state}`);
    try {
      writeVersion(root, 'slow', 2, 0.5); // a copy in progress, as `cp` leaves it between writes
      await expect.poll(indexStates, { timeout: 30_000, interval: 50 }).toEqual(['1:READY', '2:UNAVAILABLE']);
      const servedBefore = versions.get('1') ?? 0;
      await expect.poll(() => versions.get('1') ?? 0, { timeout: 10_000, interval: 20 }).toBeGreaterThan(servedBefore + 20);
      writeVersion(root, 'slow', 2, 1);
      await expect.poll(indexStates, { timeout: 30_000, interval: 50 }).toEqual(['2:READY']);
      await expect.poll(() => versions.get('2') ?? 0, { timeout: 10_000, interval: 20 }).toBeGreaterThan(20);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
  });
});
