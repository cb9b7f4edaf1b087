// The response cache: a repeated identical request to a model with response_cache { enable: true } is answered
// from memory (hits and misses counted in stats, the statistics extension and metrics), answers are copies,
// entries are evicted least-recently-used by bytes, and a reload never serves the previous load's answers.
import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { ResponseCache } from '../src/cache/response-cache.js';
import { parseCacheConfig } from '../src/cache/cache-config.js';
import { tritonModelStats } from '../src/server/stats-json.js';
import type { ModelConfig } from '../src/repository/model-config.js';
import { caught, rejected } from './helpers/caught.js';
import { PROBE_MODEL, ensembleConfig, jsConfig, mapStep, pipelineRepo, pipelineSession } from './helpers/pipeline-repo.js';

const session = pipelineSession();

const CACHED = `${jsConfig({ params: { factor: '2' } })}\nresponse_cache { enable: true }`;
const x = (v: number) => ({ x: { data: Float32Array.from([v, v, v, v]), dims: [1, 4] } });
const y = (o: Awaited<ReturnType<Runtime['infer']>>) => Array.from(o.y!.data as Float32Array);

async function open(cache: { sizeBytes: number } | undefined, models: Record<string, string> = { probe: CACHED }) {
  const repo = session.repo = pipelineRepo([], Object.entries(models).map(([name, config]) => ({ name, config, source: PROBE_MODEL })));
  session.rt = await Runtime.open({ modelRepository: repo.root, ...(cache ? { cache } : {}) });
  return session.rt;
}
const stats = (r: Runtime, name = 'probe') => r.stats().models.find((m) => m.name === name)!;

describe('response cache in the runtime', () => {
  it('answers a repeated request from the cache; the model runs once', async () => {
    const r = await open({ sizeBytes: 1 << 20 });
    expect(y(await r.infer('probe', x(1)))).toEqual([2, 2, 2, 2]);
    const again = await r.infer('probe', x(1));
    expect(y(again)).toEqual([2, 2, 2, 2]);
    expect(y(await r.infer('probe', x(2)))).toEqual([4, 4, 4, 4]);
    const s = stats(r);
    expect(s.success).toBe(2);
    expect(s.cache).toMatchObject({ hits: 1, misses: 2 });
    const triton = tritonModelStats(s, 0).inference_stats;
    expect(triton.cache_hit.count).toBe(1);
    expect(triton.cache_miss.count).toBe(2);
  });

  it('hands out copies: changing an answer does not change the next one', async () => {
    const r = await open({ sizeBytes: 1 << 20 });
    const first = await r.infer('probe', x(1));
    (first.y!.data as Float32Array).fill(99);
    const hit = await r.infer('probe', x(1));
    (hit.y!.data as Float32Array).fill(77);
    expect(y(await r.infer('probe', x(1)))).toEqual([2, 2, 2, 2]);
  });

  it('keys on the requested outputs, dims and bytes', async () => {
    const r = await open({ sizeBytes: 1 << 20 });
    await r.infer('probe', x(1));
    await r.infer('probe', x(1), { outputs: ['y'] });
    await r.infer('probe', { x: { data: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1]), dims: [2, 4] } });
    expect(stats(r).cache).toMatchObject({ hits: 0, misses: 3 });
  });

  it('caches only models that enable it, and only when the runtime has a cache', async () => {
    let r = await open({ sizeBytes: 1 << 20 }, { probe: CACHED, plain: jsConfig() });
    await r.infer('plain', x(1));
    await r.infer('plain', x(1));
    expect(stats(r, 'plain').success).toBe(2);
    expect(stats(r, 'plain').cache).toBeUndefined();
    await session.rt!.close();
    session.repo!.cleanup();
    session.rt = undefined;
    r = await open(undefined);
    await r.infer('probe', x(1));
    await r.infer('probe', x(1));
    expect(stats(r).success).toBe(2);
    expect(stats(r).cache).toBeUndefined();
  });

  it('never answers with the previous load after a reload', async () => {
    const r = await open({ sizeBytes: 1 << 20 });
    expect(y(await r.infer('probe', x(1)))).toEqual([2, 2, 2, 2]);
    session.repo!.writeJs({ name: 'probe', config: CACHED.replace('string_value: "2"', 'string_value: "3"'), source: PROBE_MODEL });
    await r.loadModel('probe');
    expect(y(await r.infer('probe', x(1)))).toEqual([3, 3, 3, 3]);
    expect(stats(r).cache).toMatchObject({ hits: 0, misses: 1 });
  });

  it('caches an ensemble like a model: a hit runs none of its steps', async () => {
    const r = await open({ sizeBytes: 1 << 20 }, { probe: jsConfig({ params: { factor: '2' } }) });
    session.repo!.writeEnsemble('ens', `${ensembleConfig([mapStep('probe', 'x', 'y')])}\nresponse_cache { enable: true }`);
    await r.loadModel('ens');
    expect(y(await r.infer('ens', x(1)))).toEqual([2, 2, 2, 2]);
    expect(y(await r.infer('ens', x(1)))).toEqual([2, 2, 2, 2]);
    expect(stats(r, 'ens').cache).toMatchObject({ hits: 1, misses: 1 });
    expect(stats(r, 'probe').success).toBe(1);
  });

  it('does not cache failures: a failed request runs again', async () => {
    const r = await open({ sizeBytes: 1 << 20 });
    expect((await rejected(r.infer('probe', x(-1)))).code).toBe('EXECUTION_FAILED');
    expect((await rejected(r.infer('probe', x(-1)))).code).toBe('EXECUTION_FAILED');
    expect(stats(r).failure['EXECUTION_FAILED']).toBe(2);
  });
});

describe('ResponseCache', () => {
  const config = { name: 'm', input: [{ name: 'x', dataType: 'FP32', dims: [4] }], output: [{ name: 'y', dataType: 'FP32', dims: [4] }], responseCache: { enable: true } } as unknown as ModelConfig;
  const version = () => ({ config });
  const answer = (v: number) => async () => ({ y: { type: 'FP32' as const, dims: [1, 4], data: new Float32Array(4).fill(v) } });

  it('evicts the least recently used entries to stay within its bytes', async () => {
    const cache = new ResponseCache(1000);  // each entry: ~60 key bytes + 16 output bytes + 256 overhead
    const v = version();
    for (const k of [1, 2, 3]) await cache.infer(v, x(k), undefined, answer(k));
    await cache.infer(v, x(1), undefined, answer(0));  // 1 is now the most recent
    await cache.infer(v, x(4), undefined, answer(4));  // evicts 2
    expect(cache.bytesUsed).toBeLessThanOrEqual(1000);
    expect(cache.entries).toBe(3);
    const again = await cache.infer(v, x(2), undefined, answer(22));
    expect((again.y!.data as Float32Array)[0]).toBe(22);  // ran again
    expect(cache.stats(v)).toMatchObject({ hits: 1, misses: 5 });
  });

  it('keeps entries of one version apart from another, and forgets a version', async () => {
    const cache = new ResponseCache(1 << 20);
    const a = version();
    const b = version();
    await cache.infer(a, x(1), undefined, answer(1));
    const fromB = await cache.infer(b, x(1), undefined, answer(5));
    expect((fromB.y!.data as Float32Array)[0]).toBe(5);
    cache.forget(a);
    expect(cache.entries).toBe(1);
  });

  it('bypasses requests it cannot key (the model answers them)', async () => {
    const cache = new ResponseCache(1 << 20);
    const v = version();
    await cache.infer(v, { x: { data: 'nope' as never, dims: [1, 4] } }, undefined, answer(1));
    await cache.infer(v, { z: x(1).x }, undefined, answer(1));
    expect(cache.stats(v)).toMatchObject({ hits: 0, misses: 0 });
  });

  it('rejects a bad size as INVALID_ARGUMENT', () => {
    expect(caught(() => new ResponseCache(0)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('--cache-config', () => {
  it('reads local,size=BYTES with K/M/G suffixes', () => {
    expect(parseCacheConfig('local,size=1048576')).toEqual({ sizeBytes: 1048576 });
    expect(parseCacheConfig('local,size=64M')).toEqual({ sizeBytes: 64 * 1024 * 1024 });
  });

  it.each([
    ['redis,size=10', "cache 'redis' is not supported"],
    ['local', 'needs size=BYTES'],
    ['local,size=-1', "unknown cache setting 'size=-1'"],
    ['local,size=0', 'must be a positive number of bytes'],
    ['local,ttl=5', "unknown cache setting 'ttl=5'"],
  ])('rejects %s', (spec, message) => {
    expect(() => parseCacheConfig(spec)).toThrow(message);
  });
});
