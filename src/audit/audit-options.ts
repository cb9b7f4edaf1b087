/**
 * The audit trail's options (`Runtime.open({ audit })`, `serval serve --audit-log`), their defaults and
 * their validation: a bad value is an InvalidArgumentError that names the option.
 */
import { InvalidArgumentError } from '../errors.js';

/** What happens when the writer's buffer is full (the store cannot keep up or is failing). */
export type AuditOverflowPolicy = 'block' | 'drop' | 'fail-closed';

export const OVERFLOW_POLICIES: readonly AuditOverflowPolicy[] = ['block', 'drop', 'fail-closed'];

export interface AuditOptions {
  /** Directory of the trail: SQLite segments `audit-000001.sqlite` ... and the published `checkpoints.jsonl`. Created if missing. */
  path: string;
  /**
   * When `maxBuffered` records wait to be written: `block` delays new requests until there is room (at most
   * `blockTimeoutMs`, then they fail with QUEUE_FULL); `drop` serves them without a record and counts them
   * (a `dropped` record with the count enters the trail); `fail-closed` refuses them at once (QUEUE_FULL, HTTP 503).
   * @default 'block'
   */
  overflow?: AuditOverflowPolicy;
  /** Records accepted but not yet written, requests in flight included. @default 10000 */
  maxBuffered?: number;
  /** Records written per transaction at most; a full batch is written on the next turn of the event loop. @default 512 */
  batchSize?: number;
  /** A partial batch waits at most this long (what a process killed with SIGKILL can lose). @default 20 */
  flushIntervalMs?: number;
  /** `block`: longest wait for room before the request fails with QUEUE_FULL. @default 5000 */
  blockTimeoutMs?: number;
  /** Start a new segment once the current one passes this size. @default 64 MiB */
  maxSegmentBytes?: number;
  /** Start a new segment once the current one is this old; 0 = never by time. @default 0 */
  rotateIntervalMs?: number;
  /** A checkpoint (sequence number and chain hash) is stored and published every this many records, and at close. @default 1000 */
  checkpointEvery?: number;
  /** When set, checkpoints carry an HMAC-SHA256 of `seq:hash` under this key (`serval audit verify --key-file`). */
  checkpointKey?: string;
  /** Called with each checkpoint, to publish it elsewhere (a transparency log, object storage, another service). */
  onCheckpoint?: (checkpoint: AuditCheckpoint) => void;
  /** Store each request's inputs too (they are always hashed). @default false */
  recordInputs?: boolean;
  /** Store each answer's outputs. @default true */
  recordOutputs?: boolean;
  /**
   * Where records are serialised, hashed and inserted: a worker thread of its own (about 4 µs of the serving
   * thread per record) or the serving thread itself (about 16 µs; measured in bench/named/audit.ts).
   * @default 'worker'
   */
  writerThread?: 'worker' | 'main';
  /** Called when a write fails (records stay buffered and are retried). @default none */
  onError?: (err: Error) => void;
}

export interface AuditCheckpoint {
  /** Sequence number of the last record covered. */
  seq: number;
  hash: string;
  time: number;
  segment: number;
  /** HMAC-SHA256 hex of `${seq}:${hash}` under `checkpointKey`, when one is set. */
  signature?: string;
}

export type ResolvedAuditOptions = Required<Omit<AuditOptions, 'checkpointKey' | 'onCheckpoint' | 'onError'>> &
  Pick<AuditOptions, 'checkpointKey' | 'onCheckpoint' | 'onError'>;

const KNOWN = new Set([
  'path', 'overflow', 'maxBuffered', 'batchSize', 'flushIntervalMs', 'blockTimeoutMs', 'maxSegmentBytes', 'rotateIntervalMs',
  'checkpointEvery', 'checkpointKey', 'onCheckpoint', 'recordInputs', 'recordOutputs', 'onError', 'writerThread',
]);

export function resolveAuditOptions(o: AuditOptions): ResolvedAuditOptions {
  if (!o || typeof o !== 'object') throw new InvalidArgumentError('audit: options must be an object with a path');
  const unknown = Object.keys(o).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`audit: unknown option(s) ${unknown.join(', ')}`);
  if (typeof o.path !== 'string' || o.path === '') throw new InvalidArgumentError('audit.path must be a non-empty directory path');
  const overflow = o.overflow ?? 'block';
  if (!OVERFLOW_POLICIES.includes(overflow)) {
    throw new InvalidArgumentError(`audit.overflow must be one of ${OVERFLOW_POLICIES.join(', ')}, got ${JSON.stringify(overflow)}`);
  }
  const int = (key: keyof AuditOptions, fallback: number, min: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`audit.${key} must be an integer >= ${min}, got ${String(v)}`);
    return v;
  };
  const flag = (key: 'recordInputs' | 'recordOutputs', fallback: boolean): boolean => {
    const v = o[key] ?? fallback;
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`audit.${key} must be true or false`);
    return v;
  };
  const fn = <K extends 'onCheckpoint' | 'onError'>(key: K): AuditOptions[K] => {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new InvalidArgumentError(`audit.${key} must be a function`);
    return o[key];
  };
  if (o.checkpointKey !== undefined && (typeof o.checkpointKey !== 'string' || o.checkpointKey === '')) {
    throw new InvalidArgumentError('audit.checkpointKey must be a non-empty string');
  }
  const writerThread = o.writerThread ?? 'worker';
  if (writerThread !== 'worker' && writerThread !== 'main') throw new InvalidArgumentError(`audit.writerThread must be worker or main, got ${JSON.stringify(writerThread)}`);
  const onCheckpoint = fn('onCheckpoint');
  const onError = fn('onError');
  return {
    path: o.path,
    overflow,
    maxBuffered: int('maxBuffered', 10_000, 1),
    batchSize: int('batchSize', 512, 1),
    flushIntervalMs: int('flushIntervalMs', 20, 1),
    blockTimeoutMs: int('blockTimeoutMs', 5000, 0),
    maxSegmentBytes: int('maxSegmentBytes', 64 * 1024 * 1024, 4096),
    rotateIntervalMs: int('rotateIntervalMs', 0, 0),
    checkpointEvery: int('checkpointEvery', 1000, 1),
    recordInputs: flag('recordInputs', false),
    recordOutputs: flag('recordOutputs', true),
    writerThread,
    ...(o.checkpointKey !== undefined ? { checkpointKey: o.checkpointKey } : {}),
    ...(onCheckpoint ? { onCheckpoint } : {}),
    ...(onError ? { onError } : {}),
  };
}

/** Per-request audit annotations (`InferOptions.audit`). */
export interface InferAuditFields {
  /** The rollout arm that chose this request's version. */
  arm?: string;
  /** Anything else to store with the record (JSON-serialisable). */
  fields?: Record<string, unknown>;
}

declare module '../api-types.js' {
  interface RuntimeOptions {
    /** Keep a hash-chained audit record of every request (see src/audit/). @default undefined (no trail) */
    audit?: AuditOptions;
  }
  interface InferOptions {
    /** The request's id in the audit trail (a UUID is generated when absent). */
    requestId?: string;
    /** Annotations for this request's audit record. */
    audit?: InferAuditFields;
  }
}
