/**
 * AuditWriter: the bounded buffer between serving and the audit store. A request reserves a slot when it
 * arrives (`admit`) and fills it when it settles (`append`), so the bound covers requests in flight and the
 * overflow policy acts before a request runs, never after it was answered. Records are written in batches
 * on a later turn of the event loop (a full batch on the next one, a partial one after `flushIntervalMs`),
 * by a synchronous sink or an asynchronous one (the store's worker thread); a failed write keeps its batch
 * and is retried. `close` writes everything accepted.
 */
import { QueueFullError } from '../errors.js';
import type { AuditOverflowPolicy } from './audit-options.js';
import type { AuditRecord } from './audit-record.js';
import type { AuditSink } from './audit-store.js';

/** Failed writes retried at close before the records left are given up. */
const CLOSE_TRIES = 3;

export interface AuditWriterOptions {
  overflow: AuditOverflowPolicy;
  maxBuffered: number;
  batchSize: number;
  flushIntervalMs: number;
  blockTimeoutMs: number;
  onError?: (err: Error) => void;
}

export interface AuditWriterStats {
  /** Records stored. */
  written: number;
  /** Requests served without a record (`drop` policy). */
  dropped: number;
  /** Requests refused because the buffer was full (`fail-closed`, or `block` past its timeout). */
  refused: number;
  /** Requests that waited for room (`block`). */
  blocked: number;
  /** Records waiting to be written. */
  buffered: number;
  /** Slots held by requests in flight. */
  reserved: number;
  /** Writes that failed (each is retried). */
  writeErrors: number;
}

/** The answer of `admit`: a slot (true), no slot and the request goes on unrecorded (false), or wait. */
export type Admission = boolean | Promise<boolean>;

export class AuditWriter {
  private buffer: AuditRecord[] = [];
  private reserved = 0;
  private droppedSinceWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private waiters: { resolve: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private closed = false;
  /** The write an asynchronous sink is doing; settles (never rejects) when it is stored or failed. */
  private inflight: Promise<void> | undefined;
  private readonly counters = { written: 0, dropped: 0, refused: 0, blocked: 0, writeErrors: 0 };

  constructor(private readonly sink: AuditSink, private readonly options: AuditWriterOptions) {}

  /** Reserves a slot for a request about to run. Throws QueueFullError when the policy refuses it. */
  admit(): Admission {
    if (this.closed) throw new QueueFullError('the audit trail is closed');
    if (this.buffer.length + this.reserved < this.options.maxBuffered) {
      this.reserved++;
      return true;
    }
    switch (this.options.overflow) {
      case 'drop':
        this.counters.dropped++;
        this.droppedSinceWrite++;
        return false;
      case 'fail-closed':
        this.counters.refused++;
        throw this.fullError('fail-closed');
      case 'block':
        this.counters.blocked++;
        this.scheduleNow();
        return new Promise<boolean>((resolve, reject) => {
          const waiter = {
            resolve,
            timer: setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              this.counters.refused++;
              reject(this.fullError(`block, waited ${this.options.blockTimeoutMs} ms`));
            }, this.options.blockTimeoutMs),
          };
          this.waiters.push(waiter);
        });
    }
  }

  /** Fills a reserved slot (`reserved` true) or adds a record without one (internal records). */
  append(record: AuditRecord, reserved = true): void {
    if (reserved) this.reserved--;
    this.buffer.push(record);
    if (this.buffer.length >= this.options.batchSize) this.scheduleNow();
    else this.timer ??= setTimeout(() => { this.timer = undefined; this.flush(); }, this.options.flushIntervalMs);
  }

  /** Gives back a slot whose request will write no record. */
  release(): void {
    this.reserved--;
    this.wakeWaiters();
  }

  /**
   * Writes what is buffered, in batches of `batchSize`, one batch at a time (an asynchronous sink's next batch
   * goes when the last one is stored). On a write error the rest stays buffered and a retry is scheduled.
   */
  flush(): void {
    while (!this.inflight && (this.buffer.length > 0 || this.droppedSinceWrite > 0)) {
      const batch = this.buffer.slice(0, this.options.batchSize);
      const gap = this.droppedSinceWrite;
      if (gap > 0) batch.unshift({ kind: 'dropped', time: Date.now(), count: gap });
      let result: void | Promise<void>;
      try {
        result = this.sink.write(batch);
      } catch (err) {
        this.failed(err);
        return;
      }
      if (result instanceof Promise) {
        this.inflight = result.then(
          () => { this.inflight = undefined; this.stored(batch.length, gap); this.afterWrite(); },
          (err: unknown) => { this.inflight = undefined; this.failed(err); },
        );
        return;
      }
      this.stored(batch.length, gap);
    }
    this.wakeWaiters();
  }

  /** Writes what is buffered now and resolves once it is stored (or a write failed: see stats().writeErrors). */
  async written(): Promise<void> {
    const errors = this.counters.writeErrors;
    while (this.counters.writeErrors === errors) {
      if (this.inflight) { await this.inflight; continue; }
      if (this.buffer.length === 0 && this.droppedSinceWrite === 0) return;
      this.flush();
    }
  }

  /** Records and slots outstanding. */
  get pending(): number {
    return this.buffer.length + this.reserved;
  }

  stats(): AuditWriterStats {
    return { ...this.counters, buffered: this.buffer.length, reserved: this.reserved };
  }

  /**
   * Writes everything buffered and closes the sink. Call once no request holds a slot (the trail waits for
   * its requests first). Rejects, counting them, when records cannot be written after a few more tries.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.resolve(false); }
    for (let tries = 0; tries < CLOSE_TRIES; ) {
      if (this.inflight) { await this.inflight; continue; }
      if (this.buffer.length === 0 && this.droppedSinceWrite === 0) break;
      const before = this.counters.writeErrors;
      this.flush();
      if (this.inflight) await this.inflight;
      if (this.counters.writeErrors > before) tries++;
    }
    clearTimeout(this.timer);
    const lost = this.buffer.length;
    await this.sink.close();
    if (lost > 0) throw new Error(`audit trail closed with ${lost} record(s) that could not be written`);
  }

  private stored(count: number, gap: number): void {
    this.buffer.splice(0, gap > 0 ? count - 1 : count);
    this.droppedSinceWrite -= gap;
    this.counters.written += count;
  }

  private failed(err: unknown): void {
    this.counters.writeErrors++;
    this.options.onError?.(err as Error);
    if (!this.closed) this.timer ??= setTimeout(() => { this.timer = undefined; this.flush(); }, this.options.flushIntervalMs);
  }

  /** After an asynchronous write: the next full batch now, a partial one on the timer. */
  private afterWrite(): void {
    this.wakeWaiters();
    if (this.closed) return;
    if (this.buffer.length >= this.options.batchSize || this.waiters.length > 0) this.scheduleNow();
    else if (this.buffer.length > 0) this.timer ??= setTimeout(() => { this.timer = undefined; this.flush(); }, this.options.flushIntervalMs);
  }

  private scheduleNow(): void {
    this.immediate ??= setImmediate(() => { this.immediate = undefined; this.flush(); });
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0 && this.buffer.length + this.reserved < this.options.maxBuffered) {
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      this.reserved++;
      w.resolve(true);
    }
  }

  private fullError(policy: string): QueueFullError {
    return new QueueFullError(
      `audit trail buffer is full (${this.pending} records waiting to be written); request refused (overflow policy ${policy})`,
    );
  }
}
