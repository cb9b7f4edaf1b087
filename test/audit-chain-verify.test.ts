// Audit trail verification: an intact trail verifies record by record; a deleted, reordered or edited
// record, a missing segment, records cut from the end and a forged checkpoint signature each fail,
// naming the break; `serval audit verify` exits 1 on a break and 0 on an intact trail.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DecisionRecord } from '../src/audit/audit-record.js';
import { queryTrail } from '../src/audit/audit-query.js';
import { segmentPath } from '../src/audit/audit-segments.js';
import { AuditStore } from '../src/audit/audit-store.js';
import { verifyTrail } from '../src/audit/audit-verify.js';
import { ROOT } from './fixtures/serval-process.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function decision(i: number): DecisionRecord {
  return {
    kind: 'decision', id: `req-${i}`, time: 1_700_000_000_000 + i, model: i % 2 ? 'fraud_mlp' : 'other', version: 1,
    placement: 'least_outstanding', admission: 'none', latencyMs: 1, status: 'OK', inputHash: `sha256:${i}`,
    outputs: { probability: { type: 'FP32', dims: [1, 1], data: [i / 100] } },
  };
}

/** A closed trail of `n` records written in batches of 10 (checkpoint every 25). */
function writeTrail(n: number, extra: Partial<Parameters<typeof AuditStore.open>[0]> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'serval-audit-'));
  dirs.push(dir);
  const store = AuditStore.open({ path: dir, maxSegmentBytes: 1 << 30, rotateIntervalMs: 0, checkpointEvery: 25, ...extra });
  for (let i = 1; i <= n; i += 10) store.write(Array.from({ length: Math.min(10, n - i + 1) }, (_, k) => decision(i + k)));
  store.close();
  return dir;
}

function tamper(dir: string, sql: string, segment = 1): void {
  const db = new Database(segmentPath(dir, segment));
  db.exec(sql);
  db.close();
}

describe('audit verify', () => {
  it('an intact trail verifies every record and every checkpoint', () => {
    const r = verifyTrail(writeTrail(100));
    expect(r).toMatchObject({ ok: true, verified: 100, lastSeq: 100, segments: 1, checkpoints: 4 });
    expect(r.warnings).toEqual([]);
  });

  it('a reopened trail continues the chain', () => {
    const dir = writeTrail(30);
    const store = AuditStore.open({ path: dir, maxSegmentBytes: 1 << 30, rotateIntervalMs: 0, checkpointEvery: 25 });
    store.write([decision(31), decision(32)]);
    store.close();
    expect(verifyTrail(dir)).toMatchObject({ ok: true, verified: 32 });
  });

  it('a deleted record breaks the chain at its place', () => {
    const dir = writeTrail(60);
    tamper(dir, 'DELETE FROM records WHERE seq = 37');
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.verified).toBe(36);
    expect(r.break).toMatchObject({ seq: 37, segment: 'audit-000001.sqlite' });
    expect(r.break!.reason).toMatch(/record 37 is missing/);
  });

  it('two records swapped (reordered) break the chain at the first of them', () => {
    const dir = writeTrail(60);
    tamper(dir, 'UPDATE records SET seq = -1 WHERE seq = 20; UPDATE records SET seq = 20 WHERE seq = 21; UPDATE records SET seq = 21 WHERE seq = -1;');
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.break!.seq).toBe(20);
    expect(r.break!.reason).toMatch(/does not follow record 19/);
  });

  it('an edited body fails even when its prev_hash link is kept', () => {
    const dir = writeTrail(60);
    tamper(dir, `UPDATE records SET body = replace(body, '"status":"OK"', '"status":"SHED"') WHERE seq = 44`);
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.verified).toBe(43);
    expect(r.break!.reason).toMatch(/record 44 was edited/);
  });

  it('an edited body with its hash recomputed still breaks the link of the next record', () => {
    const dir = writeTrail(60);
    tamper(dir, `UPDATE records SET body = replace(body, '"status":"OK"', '"status":"SHED"'), hash = '${'f'.repeat(64)}' WHERE seq = 44`);
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.break!.seq).toBe(44);
  });

  it('an edited query column (model) is detected', () => {
    const dir = writeTrail(20);
    tamper(dir, `UPDATE records SET model = 'forged' WHERE seq = 5`);
    expect(verifyTrail(dir).break!.reason).toMatch(/record 5: column model differs/);
  });

  it('records cut from the end are caught by the published checkpoints', () => {
    const dir = writeTrail(60);
    tamper(dir, 'DELETE FROM records WHERE seq > 40');
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.verified).toBe(40);
    expect(r.break!.reason).toMatch(/checkpoint at record 60 is past the end/);
  });

  it('a missing segment is named', () => {
    const dir = writeTrail(200, { maxSegmentBytes: 4096 });
    const first = verifyTrail(dir);
    expect(first.ok).toBe(true);
    expect(first.segments).toBeGreaterThan(2);
    unlinkSync(segmentPath(dir, 2));
    const r = verifyTrail(dir);
    expect(r.ok).toBe(false);
    expect(r.break!.reason).toMatch(/segment audit-000002\.sqlite is missing/);
  });

  it('rotation by time starts a new segment that continues the chain', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'serval-audit-'));
    dirs.push(dir);
    // The store reads the clock (Date.now): a faked one, so a slow disk or a busy machine cannot rotate early.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const store = AuditStore.open({ path: dir, maxSegmentBytes: 1 << 30, rotateIntervalMs: 20, checkpointEvery: 1000 });
      store.write([decision(1), decision(2)]);
      expect(store.currentSegment).toBe(1);
      vi.setSystemTime(Date.now() + 30);
      store.write([decision(3)]); // past the interval: segment 1 is finished after this batch
      expect(store.currentSegment).toBe(2);
      store.write([decision(4)]);
      store.close();
    } finally {
      vi.useRealTimers();
    }
    expect(verifyTrail(dir)).toMatchObject({ ok: true, verified: 4, segments: 2, warnings: [] });
  });

  it('query reads across rotated segments (indexed once finished) and the segment being written (scanned)', () => {
    const dir = writeTrail(200, { maxSegmentBytes: 4096 });
    const ids = [...queryTrail(dir, { model: 'fraud_mlp', sinceMs: 1_700_000_000_150 })].map((r) => (r as DecisionRecord).id);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, k) => `req-${151 + 2 * k}`));
    expect([...queryTrail(dir, { id: 'req-3' })].map((r) => r.seq)).toEqual([3]);
    expect([...queryTrail(dir, { id: 'req-200' })].map((r) => r.seq)).toEqual([200]);
    const db = new Database(segmentPath(dir, 1), { readonly: true });
    expect((db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name LIKE 'records_%'`).get() as { n: number }).n).toBe(2);
    db.close();
  });

  it('signed checkpoints verify with their key and fail with another, or when forged', () => {
    const dir = writeTrail(60, { checkpointKey: 'k1' });
    expect(verifyTrail(dir, { checkpointKey: 'k1' }).ok).toBe(true);
    expect(verifyTrail(dir, { checkpointKey: 'k2' }).break!.reason).toMatch(/signature missing or wrong/);
  });

  it('bad input: a directory without segments, or a damaged checkpoints file, is a break with a reason', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'serval-audit-'));
    dirs.push(empty);
    expect(verifyTrail(empty).break!.reason).toMatch(/no audit segments/);
    const dir = writeTrail(10);
    writeFileSync(path.join(dir, 'checkpoints.jsonl'), 'not json\n');
    expect(verifyTrail(dir).break!.reason).toMatch(/line 1 is not a checkpoint/);
  });

  it('serval audit verify prints the count and exits 0; exits 1 naming the break', () => {
    const dir = writeTrail(30);
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli/main.js'), 'audit', ...args], { encoding: 'utf8' });
    const ok = cli('verify', dir);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^verified 30 records/);
    const q = cli('query', dir, '--model', 'fraud_mlp', '--since', '2023-01-01T00:00:00Z', '--limit', '3');
    expect(q.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['req-1', 'req-3', 'req-5']);
    tamper(dir, 'DELETE FROM records WHERE seq = 12');
    const bad = cli('verify', dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/BROKEN after 11 verified records \(audit-000001\.sqlite, record 12\): record 12 is missing/);
    expect(cli('query', dir, '--since', 'yesterday-ish').status).toBe(2);
  });
});
