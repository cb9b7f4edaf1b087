/**
 * Verifies an audit trail directory (`serval audit verify`): segments numbered without a gap, each segment
 * continuing the chain of the one before, every record in sequence with its stored hash equal to the hash
 * recomputed from its body and the previous record's hash, its query columns equal to its body, and every
 * published checkpoint (checkpoints.jsonl) on the chain (and signed, with a key). Stops at the first break
 * and names it: a deleted record leaves a gap, a reordered one a wrong previous hash, an edited one a hash
 * that no longer matches, records cut from the end a checkpoint past the end.
 */
import Database from 'better-sqlite3';
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chainHash, GENESIS_HASH } from './audit-record.js';
import { signCheckpoint } from './audit-store.js';
import { CHECKPOINTS_FILE, FORMAT_VERSION, listSegments, readCheckpoints, segmentName, segmentPath } from './audit-segments.js';

export interface VerifyResult {
  ok: boolean;
  /** Records whose chain link and hash were checked and held, up to the break if there is one. */
  verified: number;
  segments: number;
  checkpoints: number;
  lastSeq: number;
  lastHash: string;
  /** The first break: where and why. */
  break?: { segment?: string; seq?: number; reason: string };
  warnings: string[];
}

interface Row { seq: number; kind: string; request_id: string | null; model: string | null; time_ms: number; body: string; prev_hash: string; hash: string }

export function verifyTrail(dir: string, options: { checkpointKey?: string } = {}): VerifyResult {
  const result: VerifyResult = { ok: true, verified: 0, segments: 0, checkpoints: 0, lastSeq: 0, lastHash: GENESIS_HASH, warnings: [] };
  const fail = (reason: string, where: { segment?: string; seq?: number } = {}): VerifyResult => {
    result.ok = false;
    result.break = { ...where, reason };
    return result;
  };
  if (!existsSync(dir)) return fail(`${dir} does not exist`);
  const segments = listSegments(dir);
  if (segments.length === 0) return fail(`no audit segments (audit-NNNNNN.sqlite) in ${dir}`);
  const { checkpoints, bad } = readCheckpoints(dir);
  if (bad.length > 0) return fail(`${CHECKPOINTS_FILE} line ${bad[0]} is not a checkpoint`);
  const wanted = new Map(checkpoints.map((c) => [c.seq, c]));
  const hashes = new Map<number, string>();

  let seq = 0;
  let prev = GENESIS_HASH;
  for (const [i, index] of segments.entries()) {
    const name = segmentName(index);
    if (index !== i + 1) return fail(`segment ${segmentName(i + 1)} is missing (found ${name} next)`, { segment: segmentName(i + 1) });
    let db: Database.Database;
    try {
      db = new Database(segmentPath(dir, index), { readonly: true, fileMustExist: true });
    } catch (err) {
      return fail(`cannot open: ${(err as Error).message}`, { segment: name });
    }
    try {
      const meta = Object.fromEntries((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
      if (meta['format'] !== FORMAT_VERSION) return fail(`format ${String(meta['format'])}, this serval reads format ${FORMAT_VERSION}`, { segment: name });
      if (Number(meta['first_seq']) !== seq + 1 || meta['prev_hash'] !== prev) {
        return fail(`does not continue the chain: starts at record ${meta['first_seq']} after hash ${String(meta['prev_hash']).slice(0, 12)}…, expected record ${seq + 1} after ${prev.slice(0, 12)}…`, { segment: name });
      }
      for (const row of db.prepare('SELECT seq, kind, request_id, model, time_ms, body, prev_hash, hash FROM records ORDER BY seq').iterate() as IterableIterator<Row>) {
        const expected = seq + 1;
        if (row.seq !== expected) {
          return fail(row.seq > expected
            ? `record ${expected} is missing (deleted?): the next stored record is ${row.seq}`
            : `record ${row.seq} appears again`, { segment: name, seq: expected });
        }
        if (row.prev_hash !== prev) return fail(`record ${row.seq} does not follow record ${seq}: its previous-hash differs (reordered or replaced)`, { segment: name, seq: row.seq });
        if (chainHash(prev, row.seq, row.body) !== row.hash) return fail(`record ${row.seq} was edited: its body no longer matches its hash`, { segment: name, seq: row.seq });
        const columns = columnMismatch(row);
        if (columns) return fail(`record ${row.seq}: column ${columns} differs from the hashed body (edited)`, { segment: name, seq: row.seq });
        seq = row.seq;
        prev = row.hash;
        if (wanted.has(seq)) hashes.set(seq, prev);
        result.verified++;
      }
    } finally {
      db.close();
    }
    result.segments++;
  }
  result.lastSeq = seq;
  result.lastHash = prev;

  for (const c of checkpoints) {
    if (c.seq > seq) return fail(`checkpoint at record ${c.seq} is past the end of the trail (last record ${seq}): records were removed from the end`, { seq: c.seq });
    if (c.seq > 0 && hashes.get(c.seq) !== c.hash) return fail(`checkpoint at record ${c.seq} does not match the chain`, { seq: c.seq });
    if (options.checkpointKey !== undefined) {
      const expected = Buffer.from(signCheckpoint(options.checkpointKey, c.seq, c.hash), 'hex');
      const given = Buffer.from(typeof c.signature === 'string' ? c.signature : '', 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail(`checkpoint at record ${c.seq}: signature missing or wrong for this key`, { seq: c.seq });
    }
    result.checkpoints++;
  }
  if (checkpoints.length === 0) result.warnings.push(`no published checkpoints (${CHECKPOINTS_FILE}): records removed from the end cannot be detected`);
  else if (checkpoints.at(-1)!.seq < seq) result.warnings.push(`records ${checkpoints.at(-1)!.seq + 1}..${seq} come after the last checkpoint (written since, or the writer did not close cleanly)`);
  return result;
}

/** The first query column that disagrees with the record body, if any. */
function columnMismatch(row: Row): string | undefined {
  let body: { kind?: unknown; id?: unknown; model?: unknown; time?: unknown };
  try {
    body = JSON.parse(row.body) as typeof body;
  } catch {
    return 'body (not JSON)';
  }
  if (body.kind !== row.kind) return 'kind';
  if ((body.kind === 'decision' ? body.id : null) !== row.request_id) return 'request_id';
  if ((body.kind === 'decision' ? body.model : null) !== row.model) return 'model';
  if (body.time !== row.time_ms) return 'time_ms';
  return undefined;
}
