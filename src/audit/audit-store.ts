/**
 * AuditStore: the SQLite (better-sqlite3) sink of the audit trail. Appends batches of records in one
 * transaction each, chaining every record to the one before (audit-record.ts `chainHash`); stores and
 * publishes a checkpoint every `checkpointEvery` records, at each rotation and at close; starts a new
 * segment when the current one passes `maxSegmentBytes` or `rotateIntervalMs`. Reopening a directory
 * continues its chain. Synchronous, main thread only: the writer (audit-writer.ts) decides when it runs.
 */
import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditCheckpoint, ResolvedAuditOptions } from './audit-options.js';
import { chainHash, GENESIS_HASH, type AuditRecord } from './audit-record.js';
import { CHECKPOINTS_FILE, FORMAT_VERSION, listSegments, QUERY_INDEXES, SCHEMA, segmentPath } from './audit-segments.js';

/**
 * Where the writer hands its batches: stored when `write` returns (or its promise resolves); throwing (or
 * rejecting) leaves the batch with the writer, to be retried.
 */
export interface AuditSink {
  write(records: readonly AuditRecord[]): void | Promise<void>;
  close(): void | Promise<void>;
}

type StoreOptions = Pick<ResolvedAuditOptions, 'path' | 'maxSegmentBytes' | 'rotateIntervalMs' | 'checkpointEvery' | 'checkpointKey' | 'onCheckpoint'>;

export class AuditStore implements AuditSink {
  private db!: Database.Database;
  private insert!: Database.Statement;
  private segment = 0;
  private openedAt = 0;
  /** Sequence number and hash of the last stored record. */
  private seq = 0;
  private lastHash = GENESIS_HASH;
  private sinceCheckpoint = 0;
  private closed = false;

  private constructor(private readonly options: StoreOptions) {}

  static open(options: StoreOptions): AuditStore {
    mkdirSync(options.path, { recursive: true });
    const store = new AuditStore(options);
    const segments = listSegments(options.path);
    const last = segments.at(-1);
    if (last === undefined) store.openSegment(1);
    else store.resume(last);
    return store;
  }

  /** Sequence number of the last stored record (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  get currentSegment(): number {
    return this.segment;
  }

  write(records: readonly AuditRecord[]): void {
    this.writeSerialized(serializeRecords(records));
  }

  /** Appends records already serialised: each body's text is what is hashed and stored. */
  writeSerialized(rows: SerializedRecords): void {
    if (this.closed) throw new Error('audit store is closed');
    const n = rows.bodies.length;
    if (n === 0) return;
    let seq = this.seq;
    let hash = this.lastHash;
    this.db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const body = rows.bodies[i]!;
        const prev = hash;
        seq += 1;
        hash = chainHash(prev, seq, body);
        this.insert.run(seq, rows.kinds[i], rows.ids[i], rows.models[i], rows.times[i], body, prev, hash);
      }
    })();
    this.seq = seq;
    this.lastHash = hash;
    this.sinceCheckpoint += n;
    if (this.sinceCheckpoint >= this.options.checkpointEvery) this.checkpoint();
    if (this.shouldRotate()) this.rotate();
  }

  /** Stores and publishes a checkpoint at the last record (nothing when no record came since the last one). */
  checkpoint(): AuditCheckpoint | undefined {
    if (this.sinceCheckpoint === 0) return undefined;
    const c: AuditCheckpoint = { seq: this.seq, hash: this.lastHash, time: Date.now(), segment: this.segment };
    if (this.options.checkpointKey) c.signature = signCheckpoint(this.options.checkpointKey, c.seq, c.hash);
    this.db.prepare('INSERT OR REPLACE INTO checkpoints (seq, hash, time_ms, signature) VALUES (?, ?, ?, ?)').run(c.seq, c.hash, c.time, c.signature ?? null);
    appendFileSync(path.join(this.options.path, CHECKPOINTS_FILE), `${JSON.stringify(c)}\n`);
    this.sinceCheckpoint = 0;
    try {
      this.options.onCheckpoint?.(c);
    } catch {
      // A failing publisher must not stop the trail; the checkpoint is stored and in checkpoints.jsonl.
    }
    return c;
  }

  close(): void {
    if (this.closed) return;
    this.checkpoint();
    this.closed = true;
    this.db.close();
  }

  private shouldRotate(): boolean {
    if (this.options.rotateIntervalMs > 0 && Date.now() - this.openedAt >= this.options.rotateIntervalMs) return true;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size >= this.options.maxSegmentBytes;
  }

  private rotate(): void {
    this.checkpoint();
    this.db.exec(QUERY_INDEXES);
    this.db.close();
    this.openSegment(this.segment + 1);
  }

  private openSegment(index: number): void {
    this.connect(index);
    const meta = this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      meta.run('format', FORMAT_VERSION);
      meta.run('segment', String(index));
      meta.run('first_seq', String(this.seq + 1));
      meta.run('prev_hash', this.lastHash);
      meta.run('created_ms', String(Date.now()));
    })();
  }

  private resume(index: number): void {
    this.connect(index);
    const meta = Object.fromEntries((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const last = this.db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    this.seq = last ? last.seq : Number(meta['first_seq'] ?? 1) - 1;
    this.lastHash = last ? last.hash : (meta['prev_hash'] ?? GENESIS_HASH);
    this.openedAt = Number(meta['created_ms'] ?? Date.now());
  }

  private connect(index: number): void {
    this.segment = index;
    this.openedAt = Date.now();
    this.db = new Database(segmentPath(this.options.path, index));
    // WAL with synchronous=NORMAL: a committed batch survives a process crash; power loss may lose the last ones.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      'INSERT INTO records (seq, kind, request_id, model, time_ms, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }
}

/** Records as the store takes them: each body's JSON text and the query columns beside it. */
export interface SerializedRecords {
  bodies: string[];
  kinds: string[];
  ids: (string | null)[];
  models: (string | null)[];
  times: number[];
}

export function serializeRecords(records: readonly AuditRecord[]): SerializedRecords {
  const out: SerializedRecords = { bodies: [], kinds: [], ids: [], models: [], times: [] };
  for (const r of records) {
    out.bodies.push(JSON.stringify(r));
    out.kinds.push(r.kind);
    out.ids.push(r.kind === 'decision' ? r.id : null);
    out.models.push(r.kind === 'decision' ? r.model : null);
    out.times.push(r.time);
  }
  return out;
}

export function signCheckpoint(key: string, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`${seq}:${hash}`).digest('hex');
}
