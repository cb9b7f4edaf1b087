// The JavaScript slot table of the request path (src/model/completion-table.ts): every promise settles
// exactly once, on success, error, cancel, timeout, refusal and close, and its slot is reused afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { CompletionTable } from '../src/model/completion-table.js';
import { loadAddon } from '../src/binding.js';
import { makeRepo, rows, slowIdentityConfig } from './helpers/temp-repo.js';

const CODES = loadAddon().buildInfo().statusCodes;

/** Builds completion records in the binding's layout (native/binding/completion_dispatcher.h). */
function record(slot: number, code: number, outputs: { index: number; dtype: number; dims: number[]; buffer?: number; offset: number; bytes: number }[] = []): number[] {
  const r = [slot, code, 1, 12.5, 40, outputs.length];
  for (const o of outputs) r.push(o.index, o.dtype, o.dims.length, ...o.dims, o.buffer ?? 0, o.offset, o.bytes);
  return r;
}

describe('CompletionTable', () => {
  it('resolves each slot with its outputs, views of the one buffer, and reports where it ran', async () => {
    const t = new CompletionTable(CODES);
    const handle: Record<string, unknown> = {};
    const a = t.open(['y', 'z'], handle);
    const b = t.open(['y']);
    expect(t.outstanding).toBe(2);
    const buf = new ArrayBuffer(24);
    new Float32Array(buf, 0, 2).set([1.5, 2.5]);
    new BigInt64Array(buf, 8, 1)[0] = 2n ** 60n + 1n;
    new Float32Array(buf, 16, 1)[0] = 9;
    const fp32 = 11;
    const int64 = 9;
    t.complete(Float64Array.from([
      ...record(a.slot, 0, [{ index: 0, dtype: fp32, dims: [1, 2], offset: 0, bytes: 8 }, { index: 1, dtype: int64, dims: [1], offset: 8, bytes: 8 }]),
      ...record(b.slot, 0, [{ index: 0, dtype: fp32, dims: [1, 1], offset: 16, bytes: 4 }]),
    ]), [buf], undefined);
    const ra = await a.promise;
    expect(ra.y).toEqual({ type: 'FP32', dims: [1, 2], data: new Float32Array([1.5, 2.5]) });
    expect((ra.z!.data as BigInt64Array)[0]).toBe(2n ** 60n + 1n);
    expect((await b.promise).y!.data).toEqual(new Float32Array([9]));
    expect(handle).toMatchObject({ instance: 1, queueUs: 12.5, computeUs: 40 });
    expect(t.outstanding).toBe(0);
  });

  it('reads each output from the buffer its record names: copied (0) or a shared batch arena (1, 2, ...)', async () => {
    const t = new CompletionTable(CODES);
    const a = t.open(['y']);
    const b = t.open(['y']);
    const c = t.open(['y']);
    const copied = new Float32Array([7]).buffer;
    const arena1 = new Float32Array([0, 1, 2, 3]).buffer;
    const arena2 = new Float32Array([10, 11]).buffer;
    t.complete(Float64Array.from([
      ...record(a.slot, 0, [{ index: 0, dtype: 11, dims: [2], buffer: 1, offset: 8, bytes: 8 }]),
      ...record(b.slot, 0, [{ index: 0, dtype: 11, dims: [1], buffer: 0, offset: 0, bytes: 4 }]),
      ...record(c.slot, 0, [{ index: 0, dtype: 11, dims: [1], buffer: 2, offset: 4, bytes: 4 }]),
    ]), [copied, arena1, arena2], undefined);
    const ya = (await a.promise).y!.data as Float32Array;
    expect(ya).toEqual(new Float32Array([2, 3]));
    expect(ya.buffer).toBe(arena1);
    expect((await b.promise).y!.data).toEqual(new Float32Array([7]));
    expect((await c.promise).y!.data).toEqual(new Float32Array([11]));
  });

  it('rejects a failed slot with the ServalError of its code and message, and decodes BYTES outputs', async () => {
    const t = new CompletionTable(CODES);
    const a = t.open(['y']);
    const b = t.open(['s']);
    const enc = new TextEncoder();
    const parts = ['héllo', ''].map((s) => enc.encode(s));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
    let off = 0;
    for (const p of parts) {
      new DataView(bytes.buffer).setUint32(off, p.length, true);
      bytes.set(p, off + 4);
      off += 4 + p.length;
    }
    t.complete(Float64Array.from([
      ...record(a.slot, CODES.indexOf('TIMEOUT')),
      ...record(b.slot, 0, [{ index: 0, dtype: 13, dims: [2], offset: 0, bytes: bytes.length }]),
    ]), [bytes.buffer], ['request timed out in the queue']);
    await expect(a.promise).rejects.toMatchObject({ code: 'TIMEOUT', message: 'request timed out in the queue' });
    expect((await b.promise).s).toEqual({ type: 'BYTES', dims: [2], data: ['héllo', ''] });
  });

  it('reuses settled slots, ignores a record for a slot already settled, and fails every open slot on failAll', async () => {
    const t = new CompletionTable(CODES);
    const a = t.open(['y']);
    t.refuse(a.slot, new Error('refused'));
    await expect(a.promise).rejects.toThrow('refused');
    const b = t.open(['y']);
    expect(b.slot).toBe(a.slot);
    t.complete(Float64Array.from(record(b.slot, CODES.indexOf('CANCELLED'))), undefined, ['cancelled']);
    await expect(b.promise).rejects.toMatchObject({ code: 'CANCELLED' });
    // A second record for the same (now free) slot settles nothing and does not throw.
    expect(() => t.complete(Float64Array.from(record(b.slot, 0)), undefined, undefined)).not.toThrow();
    const c = t.open(['y']);
    const d = t.open(['y']);
    t.failAll(() => Object.assign(new Error('closed'), { code: 'CLOSED' }));
    await expect(c.promise).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(d.promise).rejects.toMatchObject({ code: 'CLOSED' });
    expect(t.outstanding).toBe(0);
  });
});

describe('every request of a runtime settles once', () => {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 2, batching: 'dynamic_batching { }' }) }]);
  afterAll(() => repo.cleanup());
  const outstanding = (rt: Runtime) => (rt as unknown as { completions: CompletionTable }).completions.outstanding;

  it('on success, bad input, refusal, cancel, timeout and close', async () => {
    const rt = await Runtime.open({ modelRepository: repo.root });
    const settled: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => settled.push(`${name}:ok`), (e: { code?: string }) => settled.push(`${name}:${e.code}`));
    const ok = Array.from({ length: 6 }, (_, i) => track(`ok${i}`, rt.infer('slow', { x: rows(1) })));
    const bad = track('bad', rt.infer('slow', { x: { data: new Float32Array(3), dims: [1, 2] } }));
    const controller = new AbortController();
    const cancelled = track('cancel', rt.infer('slow', { x: rows(1) }, { signal: controller.signal }));
    controller.abort();
    const late = track('timeout', rt.infer('slow', { x: rows(1) }, { timeoutMs: 0.001 }));
    await Promise.all([...ok, bad, cancelled, late]);
    expect(settled.filter((s) => s.startsWith('ok'))).toEqual(expect.arrayContaining(['ok0:ok', 'ok5:ok']));
    expect(settled).toContain('bad:INVALID_INPUT');
    expect(settled.find((s) => s.startsWith('cancel'))).toMatch(/^cancel:(CANCELLED|ok)$/);
    expect(settled.find((s) => s.startsWith('timeout'))).toMatch(/^timeout:(TIMEOUT|ok)$/);
    expect(settled).toHaveLength(9);
    expect(outstanding(rt)).toBe(0);
    // Close with requests queued: each settles once (served while draining, or CLOSED).
    const queued = Array.from({ length: 20 }, (_, i) => track(`q${i}`, rt.infer('slow', { x: rows(1) })));
    const closing = rt.close({ drainTimeoutMs: 1 });
    await Promise.all([...queued, closing]);
    const q = settled.filter((s) => s.startsWith('q'));
    expect(q).toHaveLength(20);
    expect(q.every((s) => /:(ok|CLOSED)$/.test(s))).toBe(true);
    expect(outstanding(rt)).toBe(0);
  });
});
