/** Messages between the audit writer (main thread) and the store's worker thread (audit-store-worker.ts). */
import type { AuditCheckpoint, ResolvedAuditOptions } from './audit-options.js';

export type StoreWorkerData = Pick<ResolvedAuditOptions, 'path' | 'maxSegmentBytes' | 'rotateIntervalMs' | 'checkpointEvery' | 'checkpointKey'>;

export type ToStore =
  /** The batch as one JSON array: one string clones cheaper than many (the worker re-serialises each record). */
  | { type: 'write'; id: number; json: string }
  | { type: 'close' };

export type FromStore =
  | { type: 'ready'; lastSeq: number; segment: number }
  | { type: 'open-failed'; message: string }
  | { type: 'ack'; id: number; lastSeq: number; segment: number; error?: string }
  | { type: 'checkpoint'; checkpoint: AuditCheckpoint }
  | { type: 'closed'; error?: string };
