/**
 * The on-disk layout of an audit trail directory, shared by the writer, `audit verify` and `audit query`:
 * numbered SQLite segments (`audit-000001.sqlite`, ...), each holding a contiguous run of the chain, and
 * `checkpoints.jsonl`, the published checkpoints (one JSON object per line).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditCheckpoint } from './audit-options.js';

export const SEGMENT_PATTERN = /^audit-(\d{6})\.sqlite$/;
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
/** Bumped when the schema changes; verify refuses segments of another format. */
export const FORMAT_VERSION = '1';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  request_id TEXT,
  model TEXT,
  time_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time_ms INTEGER NOT NULL, signature TEXT);
`;

/**
 * Query indexes, built when a segment is finished (rotated): the segment being written has none, since each
 * index costs every insert about a microsecond of the store thread; queries scan it (at most maxSegmentBytes).
 */
export const QUERY_INDEXES = `
CREATE INDEX IF NOT EXISTS records_model_time ON records (model, time_ms);
CREATE INDEX IF NOT EXISTS records_request ON records (request_id);
`;

export function segmentName(index: number): string {
  return `audit-${String(index).padStart(6, '0')}.sqlite`;
}

/** Segment indexes found in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => SEGMENT_PATTERN.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export function segmentPath(dir: string, index: number): string {
  return path.join(dir, segmentName(index));
}

/** The published checkpoints; a line that does not parse is reported by line number. */
export function readCheckpoints(dir: string): { checkpoints: AuditCheckpoint[]; bad: number[] } {
  const file = path.join(dir, CHECKPOINTS_FILE);
  if (!existsSync(file)) return { checkpoints: [], bad: [] };
  const checkpoints: AuditCheckpoint[] = [];
  const bad: number[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const c = JSON.parse(line) as AuditCheckpoint;
      if (!Number.isSafeInteger(c.seq) || typeof c.hash !== 'string') throw new Error('fields');
      checkpoints.push(c);
    } catch {
      bad.push(i + 1);
    }
  });
  return { checkpoints, bad };
}
