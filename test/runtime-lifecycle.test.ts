// Runtime lifecycle: concurrent multi-model load, close() with requests in flight, executor crash
// recovery, reload without failed requests, unavailable models with their reason.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('runtime lifecycle', () => {
  it('serves several models concurrently', async () => {
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp', 'image_cnn', 'tabular_mixed'] });
    cleanups.push(() => rt.close());
    const fraud = Array.from({ length: 200 }, () => rt.infer('fraud_mlp', { features: { data: new Float32Array(128), dims: [1, 128] } }));
    const cnn = Array.from({ length: 20 }, () => rt.infer('image_cnn', { image: { data: new Float32Array(3 * 32 * 32), dims: [1, 3, 32, 32] } }));
    const tab = Array.from({ length: 20 }, () => rt.infer('tabular_mixed', {
      ids: { data: new BigInt64Array(4), dims: [1, 4] }, flags: { data: new Uint8Array(4), dims: [1, 4] }, text: { data: ['t'], dims: [1, 1] },
    }));
    const all = await Promise.all([...fraud, ...cnn, ...tab]);
    expect(all).toHaveLength(240);
    const byName = Object.fromEntries(rt.stats().models.map((m) => [m.name, m.success]));
    expect(byName).toEqual({ fraud_mlp: 200, image_cnn: 20, tabular_mixed: 20 });
    expect(rt.isReady()).toBe(true);
  });

  it('close() settles every accepted request and rejects new ones with CLOSED', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 2 }) }]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root });
    const inflight = Promise.allSettled(Array.from({ length: 40 }, () => rt.infer('slow', { x: rows(1) })));
    const closing = rt.close();
    expect((await rejected(rt.infer('slow', { x: rows(1) }))).code).toBe('CLOSED');
    const settled = await inflight;
    await closing;
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(rt.isReady()).toBe(false);
  });

  it('close() with a short drain timeout rejects what is still queued with CLOSED', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 1 }) }]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root });
    const requests = Array.from({ length: 200 }, () => rt.infer('slow', { x: rows(1) }));
    const inflight = Promise.allSettled(requests);
    await requests[0]; // serving has begun (a busy machine may take longer than the drain timeout to get here)
    await rt.close({ drainTimeoutMs: 20 });
    const settled = await inflight;
    const codes = new Set(settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.code));
    expect(settled.filter((s) => s.status === 'fulfilled').length).toBeGreaterThan(0);
    expect([...codes]).toEqual(['CLOSED']);
  });

  it('an executor that dies fails only its in-flight batch; the instance restarts and serving continues', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 2 }) }]);
    cleanups.push(repo.cleanup);
    const events: string[] = [];
    const rt = await Runtime.open({ modelRepository: repo.root, onEvent: (e) => events.push(e.kind) });
    cleanups.push(() => rt.close());
    rt.crashInstanceForTesting('slow', 0);
    await new Promise((r) => setTimeout(r, 20));
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => rt.infer('slow', { x: rows(1, i) })));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(2);  // one batch of at most max_batch_size
    for (const f of failed) expect(f.reason.code).toBe('EXECUTION_FAILED');
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') expect((r.value.y!.data as Float32Array)[0]).toBe(i);
    });
    expect(events).toContain('instance-restarted');
    expect(rt.stats().models[0]!.instances[0]!.restarts).toBe(1);
    await expect(rt.infer('slow', { x: rows(1) })).resolves.toBeDefined();
  });

  it('reloading a model under load fails no request and moves traffic to the new version', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 4 }) }]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root });
    cleanups.push(() => rt.close());
    let stop = false;
    let failures = 0;
    let done = 0;
    const loop = (async () => {
      while (!stop) {
        await Promise.all(Array.from({ length: 4 }, () => rt.infer('slow', { x: rows(1) }).then(() => { done++; }, () => { failures++; })));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    // Version 2 appears (same file), and the config now serves only the latest version.
    makeRepoVersion(repo.root, 'slow', 2);
    await rt.loadModel('slow');
    await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await loop;
    expect(failures).toBe(0);
    expect(done).toBeGreaterThan(0);
    expect(rt.models().map((m) => [m.version, m.state])).toEqual([[2, 'READY']]);
    expect(rt.metadata('slow').versions).toEqual(['2']);
  });

  it('a model that fails to load is UNAVAILABLE with its reason; the others serve', async () => {
    const repo = makeRepo([
      { name: 'good', from: 'slow_identity', config: slowIdentityConfig() },
      { name: 'bad', from: 'slow_identity', config: 'name: "bad"\nmax_batch_size: 8\ninput [ { name: "nope" data_type: TYPE_FP32 dims: [ 4 ] } ]' },
    ]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root });
    cleanups.push(() => rt.close());
    const bad = rt.models().find((m) => m.name === 'bad')!;
    expect(bad.state).toBe('UNAVAILABLE');
    expect(bad.reason).toMatch(/nope/);
    expect((await rejected(rt.infer('bad', { x: rows(1) }))).code).toBe('MODEL_UNAVAILABLE');
    await expect(rt.infer('good', { x: rows(1) })).resolves.toBeDefined();
    const index = await rt.repositoryIndex();
    expect(index.find((e) => e.name === 'bad')).toMatchObject({ state: 'UNAVAILABLE' });
  });

  it('unloadModel drains and forgets the model', async () => {
    const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig() }]);
    cleanups.push(repo.cleanup);
    const rt = await Runtime.open({ modelRepository: repo.root });
    cleanups.push(() => rt.close());
    const inflight = Array.from({ length: 8 }, () => rt.infer('slow', { x: rows(1) }));
    await rt.unloadModel('slow');
    await expect(Promise.all(inflight)).resolves.toHaveLength(8);
    expect((await rejected(rt.infer('slow', { x: rows(1) }))).code).toBe('UNKNOWN_MODEL');
  });
});

function makeRepoVersion(root: string, name: string, version: number): void {
  mkdirSync(join(root, name, String(version)), { recursive: true });
  copyFileSync(join(root, name, '1', 'model.onnx'), join(root, name, String(version), 'model.onnx'));
  writeFileSync(join(root, name, 'config.pbtxt'), slowIdentityConfig({ maxBatch: 4 }).replaceAll('{name}', name));
}
