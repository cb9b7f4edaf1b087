/**
 * Reads records back from an audit trail directory (`serval audit query`), oldest first, filtered by
 * model, arrival time and request id through the segments' indexes. Read-only; safe beside a live writer
 * (SQLite WAL readers do not block it).
 */
import Database from 'better-sqlite3';
import { InvalidArgumentError } from '../errors.js';
import type { AuditRecord } from './audit-record.js';
import { listSegments, segmentPath } from './audit-segments.js';

export interface AuditQuery {
  model?: string;
  /** Records that arrived at or after this time (ms since the epoch). */
  sinceMs?: number;
  id?: string;
  /** At most this many records. @default unlimited */
  limit?: number;
}

export type StoredRecord = AuditRecord & { seq: number; hash: string };

export function* queryTrail(dir: string, q: AuditQuery): Generator<StoredRecord> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.model !== undefined) { where.push('model = ?'); params.push(q.model); }
  if (q.sinceMs !== undefined) { where.push('time_ms >= ?'); params.push(q.sinceMs); }
  if (q.id !== undefined) { where.push('request_id = ?'); params.push(q.id); }
  const sql = `SELECT seq, body, hash FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
  let left = q.limit ?? Infinity;
  for (const index of listSegments(dir)) {
    if (left <= 0) return;
    const db = new Database(segmentPath(dir, index), { readonly: true, fileMustExist: true });
    try {
      for (const row of db.prepare(sql).iterate(...params) as IterableIterator<{ seq: number; body: string; hash: string }>) {
        yield { seq: row.seq, hash: row.hash, ...(JSON.parse(row.body) as AuditRecord) };
        if (--left <= 0) return;
      }
    } finally {
      db.close();
    }
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO 8601 time, ms since the epoch, or an age like `90s`, `15m`, `2h`, `7d` (before `now`). */
export function parseSince(text: string, now = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`--since must be an ISO time, epoch milliseconds or an age like 15m, got ${JSON.stringify(text)}`);
  return t;
}
