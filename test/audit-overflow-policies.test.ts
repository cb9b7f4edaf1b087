// The audit writer's bounded buffer and overflow policies, against a sink the test controls: `drop`
// serves unrecorded and writes the count into the trail, `fail-closed` refuses with QUEUE_FULL, `block`
// waits for room (and fails with QUEUE_FULL past its timeout); a failing store keeps its batch and is
// retried; close writes everything accepted. Through Runtime: a refused request never runs.
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord, DecisionRecord } from '../src/audit/audit-record.js';
import type { AuditSink } from '../src/audit/audit-store.js';
import { AuditTrail } from '../src/audit/audit-trail.js';
import { AuditWriter, type AuditWriterOptions } from '../src/audit/audit-writer.js';
import { Runtime } from '../src/index.js';
import { BUNDLED_REPOSITORY } from '../src/model-generator/generate.js';
import { caught, rejected } from './helpers/caught.js';

class MemorySink implements AuditSink {
  written: AuditRecord[] = [];
  failing = false;
  closed = false;
  write(records: readonly AuditRecord[]): void {
    if (this.failing) throw new Error('disk full');
    this.written.push(...records);
  }
  close(): void { this.closed = true; }
}

const rec = (i: number): DecisionRecord => ({
  kind: 'decision', id: `r${i}`, time: i, model: 'm', placement: 'p', admission: 'a', latencyMs: 0, status: 'OK', inputHash: 'h',
});

function writer(overflow: AuditWriterOptions['overflow'], sink = new MemorySink(), extra: Partial<AuditWriterOptions> = {}) {
  return { sink, w: new AuditWriter(sink, { overflow, maxBuffered: 2, batchSize: 100, flushIntervalMs: 10_000, blockTimeoutMs: 10_000, ...extra }) };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

describe('audit overflow policies', () => {
  it('drop: a request past the bound runs without a slot; the trail gets a dropped record with the count', () => {
    const { sink, w } = writer('drop');
    expect([w.admit(), w.admit(), w.admit(), w.admit()]).toEqual([true, true, false, false]);
    w.append(rec(1));
    w.append(rec(2));
    w.flush();
    expect(sink.written.map((r) => r.kind)).toEqual(['dropped', 'decision', 'decision']);
    expect(sink.written[0]).toMatchObject({ kind: 'dropped', count: 2 });
    expect(w.stats()).toMatchObject({ dropped: 2, written: 3, buffered: 0, reserved: 0 });
  });

  it('fail-closed: a request past the bound is refused with QUEUE_FULL; room comes back after a write', () => {
    const { sink, w } = writer('fail-closed');
    w.admit(); w.admit();
    const err = caught(() => w.admit());
    expect(err.code).toBe('QUEUE_FULL');
    expect(err.message).toMatch(/audit trail buffer is full.*fail-closed/);
    w.append(rec(1)); w.append(rec(2));
    w.flush();
    expect(w.admit()).toBe(true);
    expect(sink.written).toHaveLength(2);
    expect(w.stats().refused).toBe(1);
  });

  it('block: a request waits for room, and gets its slot once the buffer is written', async () => {
    const { sink, w } = writer('block');
    w.admit(); w.admit();
    const waiting = w.admit();
    expect(waiting).toBeInstanceOf(Promise);
    let got: boolean | undefined;
    void (waiting as Promise<boolean>).then((v) => { got = v; });
    await Promise.resolve();
    expect(got).toBeUndefined();
    w.append(rec(1));
    await new Promise((r) => setImmediate(r)); // the writer flushes on the next turn when someone waits
    expect(got).toBe(true);
    expect(sink.written).toHaveLength(1);
    expect(w.stats()).toMatchObject({ blocked: 1, reserved: 2 });
  });

  it('block: past blockTimeoutMs the waiting request fails with QUEUE_FULL', async () => {
    const { w } = writer('block', new MemorySink(), { blockTimeoutMs: 5 });
    w.admit(); w.admit();
    const err = await rejected(w.admit() as Promise<boolean>);
    expect(err.code).toBe('QUEUE_FULL');
    expect(err.message).toMatch(/waited 5 ms/);
  });

  it('a failing store keeps its batch, counts the error and the retry writes it in order', async () => {
    const errors: string[] = [];
    const { sink, w } = writer('drop', new MemorySink(), { maxBuffered: 10, onError: (e) => errors.push(e.message) });
    for (let i = 0; i < 3; i++) { w.admit(); w.append(rec(i)); }
    sink.failing = true;
    w.flush();
    expect(w.stats()).toMatchObject({ writeErrors: 1, buffered: 3, written: 0 });
    sink.failing = false;
    await w.close();
    expect(sink.written.map((r) => (r as DecisionRecord).id)).toEqual(['r0', 'r1', 'r2']);
    expect(errors).toEqual(['disk full']);
    expect(sink.closed).toBe(true);
  });

  it('close writes every accepted record; a store that still fails makes close reject, counting what is lost', async () => {
    const { sink, w } = writer('drop', new MemorySink(), { maxBuffered: 10 });
    w.admit(); w.append(rec(1));
    sink.failing = true;
    await expect(w.close()).rejects.toThrow(/closed with 1 record\(s\) that could not be written/);
  });

  it('an asynchronous sink gets one batch at a time; a rejected write is retried in order', async () => {
    const batches: number[] = [];
    let inFlight = 0;
    let failOnce = true;
    const sink: AuditSink = {
      write: async (records) => {
        expect(inFlight).toBe(0);
        inFlight++;
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (failOnce) { failOnce = false; throw new Error('busy'); }
        batches.push(records.length);
      },
      close: async () => {},
    };
    const w = new AuditWriter(sink, { overflow: 'block', maxBuffered: 100, batchSize: 4, flushIntervalMs: 1, blockTimeoutMs: 1000 });
    for (let i = 0; i < 10; i++) { w.admit(); w.append(rec(i)); }
    await w.close();
    expect(batches.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4);
    expect(w.stats()).toMatchObject({ written: 10, writeErrors: 1, buffered: 0 });
  });

  it('through Runtime, fail-closed refuses a request before it runs and records only the ones served', async () => {
    const sink = new MemorySink();
    const rt = await Runtime.open({ modelRepository: BUNDLED_REPOSITORY, loadModels: ['fraud_mlp'] });
    cleanups.push(() => rt.close());
    // The same trail Runtime.open builds, over the memory sink, bound 1 and nothing written before close.
    const trail = await AuditTrail.open({ path: 'unused', overflow: 'fail-closed', maxBuffered: 1, flushIntervalMs: 60_000 },
      { placement: rt.policy, admission: rt.admission, servingVersion: (m) => rt.servingVersion(m) }, sink);
    const x = { features: { data: new Float32Array(128), dims: [1, 128] } };
    const first = trail.around('fraud_mlp', x, { requestId: 'a' }, () => rt.inferUnaudited('fraud_mlp', x));
    let ran = false;
    const second = await rejected(trail.around('fraud_mlp', x, { requestId: 'b' }, () => { ran = true; return rt.inferUnaudited('fraud_mlp', x); }));
    expect(second.code).toBe('QUEUE_FULL');
    expect(ran).toBe(false);
    await first;
    await trail.close();
    expect(sink.written.map((r) => (r as DecisionRecord).id)).toEqual(['a']);
  });
});
