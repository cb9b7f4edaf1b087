/**
 * What one audit record holds, and the two hashes of the trail: the hash of a request's inputs (taken
 * when `infer` is called, since the caller may reuse its arrays as soon as it returns) and the chain
 * hash that links each stored record to the one before it.
 */
import { hash } from 'node:crypto';
import type { InferInputs, InferOutputs } from '../api-types.js';

/** The chain's first `prevHash`: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** A tensor as the trail stores it: 64-bit integers as decimal strings, FP16 as its bit patterns. */
export interface RecordedTensor {
  type: string;
  dims: number[];
  data: (number | string | boolean)[];
}

/** One decision: a request the runtime answered or refused. */
export interface DecisionRecord {
  kind: 'decision';
  /** The request id: the caller's (`InferOptions.requestId`, the v2 request `id`) or a generated UUID. */
  id: string;
  /** Arrival, ms since the epoch. */
  time: number;
  model: string;
  /** The version that served it (the one routed to when `infer` was called); absent if the model had none. */
  version?: number;
  /** Traffic arm, when a rollout decided it (`InferOptions.audit.arm`). */
  arm?: string;
  /** Placement and admission policies in force; the instance and timings the runtime reported for this request (RequestHandle). */
  placement: string;
  admission: string;
  instance?: number;
  queueMs?: number;
  computeMs?: number;
  /** Arrival to answer, measured around `Runtime.infer`. */
  latencyMs: number;
  priority?: number;
  /** `OK`, or the error code the request failed with (SHED, TIMEOUT, INVALID_INPUT ...). */
  status: string;
  error?: string;
  /** `sha256:` of the inputs (names, types, dims, bytes). */
  inputHash: string;
  inputs?: Record<string, RecordedTensor>;
  outputs?: Record<string, RecordedTensor>;
  explanation?: unknown;
  /** Caller-supplied annotations (`InferOptions.audit.fields`). */
  fields?: Record<string, unknown>;
}

/** Written in place of records the `drop` overflow policy discarded, so the gap is in the trail itself. */
export interface DroppedRecord {
  kind: 'dropped';
  time: number;
  count: number;
}

export type AuditRecord = DecisionRecord | DroppedRecord;

/** The chain hash of a stored record: sha256 over the previous hash, the sequence number and the body text. */
export function chainHash(prevHash: string, seq: number, body: string): string {
  return hash('sha256', `${prevHash}\n${seq}\n${body}`, 'hex');
}

type AnyTensor = { type?: string; dims: readonly number[]; data: unknown };

/** sha256 over the inputs in name order: name, type, dims, then the element bytes (strings as JSON). */
export function hashInputs(inputs: InferInputs): string {
  if (!inputs || typeof inputs !== 'object') return `sha256:${hash('sha256', 'invalid', 'hex')}`;
  const names = Object.keys(inputs);
  if (names.length > 1) names.sort();
  // One buffer, one one-shot hash: a Hash object per request costs twice as much (node:crypto).
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const t = inputs[name] as AnyTensor | undefined;
    parts.push(Buffer.from(`${name}\0${String(t?.type ?? '')}\0${Array.isArray(t?.dims) ? t.dims.join(',') : '?'}\0`));
    const data = t?.data;
    // A detached buffer has byteLength 0; the request is rejected anyway.
    parts.push(ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(`${safeJson(data)}\0`));
  }
  return `sha256:${hash('sha256', Buffer.concat(parts), 'hex')}`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'undefined';
  } catch {
    return 'unserialisable';
  }
}

/** A copy of tensors in a JSON-safe form (typed arrays to arrays, bigint to strings). */
export function recordTensors(tensors: InferInputs | InferOutputs): Record<string, RecordedTensor> {
  const out: Record<string, RecordedTensor> = {};
  for (const [name, t] of Object.entries(tensors as Record<string, AnyTensor>)) {
    const data = t?.data;
    let values: (number | string | boolean)[];
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Array.from(data, (x) => x.toString());
    else if (ArrayBuffer.isView(data)) values = Array.from(data as unknown as ArrayLike<number>);
    else if (Array.isArray(data)) values = data.map((x) => (typeof x === 'bigint' ? x.toString() : x));
    else values = [];
    out[name] = { type: String(t?.type ?? ''), dims: Array.isArray(t?.dims) ? [...t.dims] : [], data: values };
  }
  return out;
}
