// Dynamic batching through the real Runtime (slow_identity fixture: a few ms per execution):
// batches form under concurrency, preferred sizes and max delay are honoured, priorities order the
// queue, deadlines reject promptly, a full queue rejects, and an AbortSignal cancels a queued request.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

let cleanup: (() => void) | undefined;
let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.close();
  cleanup?.();
  rt = undefined;
  cleanup = undefined;
});

async function open(config: string, extra: Partial<Parameters<typeof Runtime.open>[0]> = {}) {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config }]);
  cleanup = repo.cleanup;
  rt = await Runtime.open({ modelRepository: repo.root, ...extra });
  return rt;
}

function batchSizes(r: Runtime): Map<number, number> {
  const h = r.stats().models[0]!.batchSize;
  const out = new Map<number, number>();
  h.counts.forEach((c, i) => { if (c) out.set(h.bounds[i]!, c); });
  return out;
}

describe('dynamic batching', () => {
  it('batches concurrent requests and returns each its own rows', async () => {
    const r = await open(slowIdentityConfig({ maxBatch: 8 }));
    const outs = await Promise.all(Array.from({ length: 24 }, (_, i) => r.infer('slow', { x: rows(1, i) })));
    outs.forEach((o, i) => expect(Array.from(o.y!.data as Float32Array)).toEqual([i, i, i, i]));
    const s = r.stats().models[0]!;
    expect(s.success).toBe(24);
    expect(s.inferenceCount).toBe(24);
    expect(s.executionCount).toBeLessThan(24);
  });

  it('never exceeds max_batch_size and keeps multi-row requests whole', async () => {
    const r = await open(slowIdentityConfig({ maxBatch: 4 }));
    const outs = await Promise.all([3, 3, 2, 1, 4].map((n, i) => r.infer('slow', { x: rows(n, i) })));
    expect(outs.map((o) => o.y!.dims[0])).toEqual([3, 3, 2, 1, 4]);
    for (const size of batchSizes(r).keys()) expect(size).toBeLessThanOrEqual(4);
  });

  it('holds a lone request for max_queue_delay so later ones join it', async () => {
    const r = await open(slowIdentityConfig({ maxBatch: 8, batching: 'dynamic_batching { max_queue_delay_microseconds: 100000 }' }));
    const t0 = performance.now();
    const first = r.infer('slow', { x: rows(1) });
    await new Promise((res) => setTimeout(res, 20));
    const second = r.infer('slow', { x: rows(1) });
    await Promise.all([first, second]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(r.stats().models[0]!.executionCount).toBe(1);  // warmup ran on the executor directly
  });

  it('sends a preferred batch size at once instead of waiting out the delay', async () => {
    const r = await open(slowIdentityConfig({
      maxBatch: 8, batching: 'dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 5000000 }',
    }));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => r.infer('slow', { x: rows(1) })));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(batchSizes(r).get(4)).toBe(1);
  });

  it('serves higher priority levels first', async () => {
    const r = await open(slowIdentityConfig({
      maxBatch: 1, batching: 'dynamic_batching { priority_levels: 3 default_priority_level: 2 }',
    }));
    const order: string[] = [];
    const blocker = r.infer('slow', { x: rows(1) });  // occupies the executor
    await new Promise((res) => setTimeout(res, 1));
    const reqs = [['low', 3], ['mid', 0], ['high', 1], ['low2', 3], ['high2', 1]] as const;
    await Promise.all([blocker, ...reqs.map(([tag, priority]) =>
      r.infer('slow', { x: rows(1) }, { priority }).then(() => { order.push(tag); }))]);
    expect(order).toEqual(['high', 'high2', 'mid', 'low', 'low2']);
  });
});

describe('queue policy', () => {
  it('rejects a request whose queue timeout passes, at its deadline', async () => {
    const r = await open(slowIdentityConfig({ maxBatch: 1 }));
    const busy = Array.from({ length: 30 }, () => r.infer('slow', { x: rows(1) }));  // ~30 executions queued
    const t0 = performance.now();
    const err = await rejected(r.infer('slow', { x: rows(1) }, { timeoutMs: 10 }));
    const waited = performance.now() - t0;
    expect(err.code).toBe('TIMEOUT');
    expect(waited).toBeGreaterThanOrEqual(9);
    expect(waited).toBeLessThan(60);  // well before the ~100 ms the queue ahead of it takes
    await Promise.all(busy);
    expect(r.stats().models[0]!.failure.TIMEOUT).toBe(1);
  });

  it('uses default_timeout_microseconds and ignores longer overrides unless allowed', async () => {
    const r = await open(slowIdentityConfig({
      maxBatch: 1,
      batching: 'dynamic_batching { default_queue_policy { default_timeout_microseconds: 5000 allow_timeout_override: false } }',
    }));
    const busy = Array.from({ length: 30 }, () => r.infer('slow', { x: rows(1) }).catch((e) => e));
    const err = await rejected(r.infer('slow', { x: rows(1) }, { timeoutMs: 10_000 }));
    expect(err.code).toBe('TIMEOUT');
    await Promise.all(busy);
  });

  it('rejects with QUEUE_FULL at max_queue_size and keeps serving', async () => {
    const r = await open(slowIdentityConfig({
      maxBatch: 1, batching: 'dynamic_batching { default_queue_policy { max_queue_size: 4 } }',
    }));
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => r.infer('slow', { x: rows(1) })));
    const full = results.filter((x) => x.status === 'rejected');
    expect(full.length).toBeGreaterThan(0);
    for (const f of full) expect((f as PromiseRejectedResult).reason.code).toBe('QUEUE_FULL');
    // The queue holds 4; the executor may already have taken one more off it.
    expect(results.filter((x) => x.status === 'fulfilled').length).toBeGreaterThanOrEqual(4);
    await expect(r.infer('slow', { x: rows(1) })).resolves.toBeDefined();
  });

  it('cancels a queued request through its AbortSignal without harming others', async () => {
    const r = await open(slowIdentityConfig({ maxBatch: 1 }));
    const busy = Array.from({ length: 10 }, () => r.infer('slow', { x: rows(1) }));
    const ac = new AbortController();
    const p = r.infer('slow', { x: rows(1) }, { signal: ac.signal });
    ac.abort();
    expect((await rejected(p)).code).toBe('CANCELLED');
    const pre = new AbortController();
    pre.abort();
    expect((await rejected(r.infer('slow', { x: rows(1) }, { signal: pre.signal }))).code).toBe('CANCELLED');
    await expect(Promise.all(busy)).resolves.toHaveLength(10);
  });
});
