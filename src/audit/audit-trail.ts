/**
 * AuditTrail: what `Runtime` holds when `audit` is set. `around` wraps one `infer`: it takes a slot from
 * the writer (the overflow policy acts here, before the request runs), hashes the inputs at the call,
 * and appends the decision record when the request settles, answered or failed. `begin` gives the same
 * as a ticket for callers that finish the record later (an infer with an explanation).
 */
import { randomUUID } from 'node:crypto';
import type { InferInputs, InferOptions, InferOutputs, RequestHandle } from '../api-types.js';
import { InvalidArgumentError, ServalError } from '../errors.js';
import { resolveAuditOptions, type AuditOptions, type ResolvedAuditOptions } from './audit-options.js';
import { hashInputs, recordTensors, type DecisionRecord } from './audit-record.js';
import { AuditStore, type AuditSink } from './audit-store.js';
import { AuditStoreClient } from './audit-store-client.js';
import { AuditWriter, type AuditWriterStats } from './audit-writer.js';

/** What the trail reads from the runtime. */
export interface AuditContext {
  placement: string;
  admission: string;
  servingVersion(model: string): number | undefined;
}

export interface AuditTicket {
  /** Appends the record: the outputs, or the error the request failed with; `explanation` when one was computed. */
  finish(result: { outputs: InferOutputs } | { error: unknown }, explanation?: unknown): void;
}

export interface AuditTrailStats extends AuditWriterStats {
  /** Sequence number of the last stored record, and the segment being written. */
  lastSeq: number;
  segment: number;
}

const NO_TICKET: AuditTicket = { finish() {} };

export class AuditTrail {
  private inflight = 0;
  private idle: (() => void) | undefined;

  private constructor(
    private readonly options: ResolvedAuditOptions,
    private readonly context: AuditContext,
    private readonly writer: AuditWriter,
    private readonly store: { lastSeq: number; segment: number } | undefined,
  ) {}

  /**
   * Opens (or continues) the trail at `options.path`: the SQLite store in its worker thread, or on this
   * thread with `writerThread: 'main'`. `sink` replaces the store (tests).
   */
  static async open(options: AuditOptions, context: AuditContext, sink?: AuditSink): Promise<AuditTrail> {
    const resolved = resolveAuditOptions(options);
    if (sink) return new AuditTrail(resolved, context, new AuditWriter(sink, resolved), undefined);
    if (resolved.writerThread === 'main') {
      const store = AuditStore.open(resolved);
      const view = { get lastSeq() { return store.lastSeq; }, get segment() { return store.currentSegment; } };
      return new AuditTrail(resolved, context, new AuditWriter(store, resolved), view);
    }
    const { path, maxSegmentBytes, rotateIntervalMs, checkpointEvery, checkpointKey } = resolved;
    const client = await AuditStoreClient.open(
      { path, maxSegmentBytes, rotateIntervalMs, checkpointEvery, ...(checkpointKey !== undefined ? { checkpointKey } : {}) }, resolved.onCheckpoint,
    );
    return new AuditTrail(resolved, context, new AuditWriter(client, resolved), client);
  }

  /** Runs `run` as one audited request. Rejects with QueueFullError when the overflow policy refuses it. */
  around(model: string, inputs: InferInputs, options: InferOptions | undefined, run: () => Promise<InferOutputs>): Promise<InferOutputs> {
    let ticket: AuditTicket | Promise<AuditTicket>;
    try {
      ticket = this.begin(model, inputs, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (ticket instanceof Promise) return ticket.then((t) => this.settle(t, run));
    return this.settle(ticket, run);
  }

  /** Takes a slot and hashes the inputs now; the ticket's `finish` appends the record. */
  begin(model: string, inputs: InferInputs, options: InferOptions | undefined): AuditTicket | Promise<AuditTicket> {
    // Hash at the call: the caller may change its arrays as soon as infer returns.
    const start = this.startRecord(model, inputs, options);
    const admitted = this.writer.admit();
    const handle = options?.handle;
    if (admitted instanceof Promise) return admitted.then((ok) => this.ticket(ok, start, handle));
    return this.ticket(admitted, start, handle);
  }

  stats(): AuditTrailStats {
    return { ...this.writer.stats(), lastSeq: this.store?.lastSeq ?? 0, segment: this.store?.segment ?? 0 };
  }

  /** Writes what is buffered now; resolves once it is stored. */
  flush(): Promise<void> {
    return this.writer.written();
  }

  /**
   * Waits (at most `timeoutMs`) for the requests still holding a slot to settle, then writes every
   * record and the closing checkpoint. The runtime calls it after draining, so none should be left.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idle = () => { clearTimeout(timer); resolve(); };
      });
    }
    await this.writer.close();
  }

  private settle(ticket: AuditTicket, run: () => Promise<InferOutputs>): Promise<InferOutputs> {
    let p: Promise<InferOutputs>;
    try {
      p = run();
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(
      (outputs) => { ticket.finish({ outputs }); return outputs; },
      (error: unknown) => { ticket.finish({ error }); throw error; },
    );
  }

  /** The record so far, built once in one shape (absent fields undefined, which JSON leaves out): the hot path allocates little. */
  private startRecord(model: string, inputs: InferInputs, options: InferOptions | undefined): DecisionRecord {
    const version = options?.version ?? this.context.servingVersion(model);
    const audit = options?.audit;
    return {
      kind: 'decision',
      id: typeof options?.requestId === 'string' && options.requestId !== '' ? options.requestId : randomUUID(),
      time: Date.now(),
      model: String(model),
      version: typeof version === 'number' ? version : undefined,
      arm: typeof audit?.arm === 'string' ? audit.arm : undefined,
      placement: this.context.placement,
      admission: this.context.admission,
      instance: undefined,
      queueMs: undefined,
      computeMs: undefined,
      latencyMs: performance.now(), // the start until finish turns it into the latency
      priority: options?.priority,
      status: '',
      error: undefined,
      inputHash: hashInputs(inputs),
      inputs: this.options.recordInputs ? safeRecord(inputs) : undefined,
      outputs: undefined,
      explanation: undefined,
      fields: audit?.fields !== undefined ? jsonFields(audit.fields) : undefined,
    };
  }

  private ticket(admitted: boolean, record: DecisionRecord, handle: RequestHandle | undefined): AuditTicket {
    if (!admitted) return NO_TICKET;
    this.inflight++;
    return new Ticket(this, record, handle);
  }

  /** Completes `record` and hands it to the writer (the ticket calls it once). */
  complete(record: DecisionRecord, result: { outputs: InferOutputs } | { error: unknown }, explanation: unknown, handle?: RequestHandle): void {
    record.latencyMs = Math.round((performance.now() - record.latencyMs) * 1000) / 1000;
    if (handle) {
      // What the runtime reported for this request (RequestHandle): the version that served it, where it ran, how long it waited and ran.
      if (handle.version !== undefined) record.version = handle.version;
      if (handle.instance !== undefined) {
        record.instance = handle.instance;
        record.queueMs = (handle.queueUs ?? 0) / 1000;
        record.computeMs = (handle.computeUs ?? 0) / 1000;
      }
    }
    if ('outputs' in result) {
      record.status = 'OK';
      if (this.options.recordOutputs) record.outputs = recordTensors(result.outputs);
    } else {
      record.status = result.error instanceof ServalError ? result.error.code : 'INTERNAL';
      record.error = String((result.error as Error)?.message ?? result.error);
    }
    if (explanation !== undefined) record.explanation = explanation;
    this.writer.append(record);
    if (--this.inflight === 0) this.idle?.();
  }
}

class Ticket implements AuditTicket {
  private done = false;
  constructor(private readonly trail: AuditTrail, private readonly record: DecisionRecord, private readonly handle: RequestHandle | undefined) {}
  finish(result: { outputs: InferOutputs } | { error: unknown }, explanation?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.trail.complete(this.record, result, explanation, this.handle);
  }
}

/** A copy of the caller's annotations that the store can serialise; anything else is the caller's error, told now. */
function jsonFields(fields: unknown): Record<string, unknown> {
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(fields));
  } catch (err) {
    throw new InvalidArgumentError(`audit.fields must be JSON-serialisable: ${(err as Error).message}`);
  }
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) throw new InvalidArgumentError('audit.fields must be an object');
  return copy as Record<string, unknown>;
}

function safeRecord(inputs: InferInputs) {
  try {
    return recordTensors(inputs);
  } catch {
    return {};
  }
}
