/**
 * AuditStoreClient: the writer's sink when the store runs in its worker thread (audit-store-worker.ts).
 * One batch in flight at a time (the writer's rule); each `write` resolves when the worker stored it and
 * rejects with the worker's error otherwise. A worker that dies rejects what is in flight; later writes
 * reject at once, so the writer's overflow policy takes over.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../binding.js';
import { InvalidArgumentError } from '../errors.js';
import type { AuditCheckpoint } from './audit-options.js';
import type { AuditRecord } from './audit-record.js';
import type { AuditSink } from './audit-store.js';
import type { FromStore, StoreWorkerData, ToStore } from './store-protocol.js';

const WORKER_PATH = workerScript('src/audit/audit-store-worker.js');

export class AuditStoreClient implements AuditSink {
  lastSeq = 0;
  segment = 0;
  private nextId = 1;
  private pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private closing: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker, private readonly onCheckpoint?: (c: AuditCheckpoint) => void) {}

  /** Starts the worker and waits until it opened (or failed to open) the trail directory. */
  static open(data: StoreWorkerData, onCheckpoint?: (c: AuditCheckpoint) => void): Promise<AuditStoreClient> {
    const worker = new Worker(WORKER_PATH, { workerData: data });
    const client = new AuditStoreClient(worker, onCheckpoint);
    return new Promise((resolve, reject) => {
      const first = (m: FromStore): void => {
        if (m.type === 'ready') {
          client.lastSeq = m.lastSeq;
          client.segment = m.segment;
          worker.off('error', early);
          worker.on('message', (msg: FromStore) => client.receive(msg));
          worker.on('error', (err) => client.die(err));
          worker.on('exit', () => client.die(new Error('the audit store worker exited')));
          resolve(client);
        } else if (m.type === 'open-failed') {
          void worker.terminate();
          reject(new InvalidArgumentError(`audit.path ${data.path}: cannot open the audit trail: ${m.message}`));
        }
      };
      const early = (err: Error): void => reject(err);
      worker.once('message', first);
      worker.once('error', early);
    });
  }

  write(records: readonly AuditRecord[]): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'write', id, json: JSON.stringify(records) } satisfies ToStore);
    });
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.closing = { resolve, reject };
      this.worker.postMessage({ type: 'close' } satisfies ToStore);
    });
  }

  private receive(m: FromStore): void {
    if (m.type === 'ack') {
      this.lastSeq = m.lastSeq;
      this.segment = m.segment;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve();
    } else if (m.type === 'checkpoint') {
      try {
        this.onCheckpoint?.(m.checkpoint);
      } catch {
        // A failing publisher must not stop the trail; the checkpoint is stored and in checkpoints.jsonl.
      }
    } else if (m.type === 'closed') {
      const c = this.closing;
      this.closing = undefined;
      this.dead = new Error('the audit store is closed');
      if (m.error !== undefined) c?.reject(new Error(m.error));
      else c?.resolve();
    }
  }

  private die(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.closing?.resolve();
    this.closing = undefined;
  }
}
