// The response cache's collision check: with a hash that maps every request to one digest, distinct requests
// must still get their own answers (a stored entry is served only when its key bytes equal the request's).
import { describe, expect, it, vi } from 'vitest';
import type { ModelConfig } from '../src/repository/model-config.js';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, hash: () => 'same' };
});

const { ResponseCache } = await import('../src/cache/response-cache.js');

describe('response cache under hash collisions', () => {
  it('never serves one request the answer of another with the same hash', async () => {
    const cache = new ResponseCache(1 << 20);
    const config = { name: 'm', input: [{ name: 'x', dataType: 'FP32', dims: [1] }], output: [], responseCache: { enable: true } } as unknown as ModelConfig;
    const v = { config };
    const ask = (value: number) => cache.infer(v, { x: { data: Float32Array.of(value), dims: [1, 1] } }, undefined,
      async () => ({ y: { type: 'FP32' as const, dims: [1, 1], data: Float32Array.of(value * 10) } }));
    expect(Array.from((await ask(1)).y!.data as Float32Array)).toEqual([10]);
    expect(Array.from((await ask(2)).y!.data as Float32Array)).toEqual([20]);
    expect(Array.from((await ask(2)).y!.data as Float32Array)).toEqual([20]);
    expect(cache.stats(v)).toMatchObject({ hits: 1, misses: 2 });
    expect(cache.entries).toBe(1);  // the two requests did share one key: the mock hash is in effect
  });
});
