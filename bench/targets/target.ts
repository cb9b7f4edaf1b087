/**
 * The seam between the load generator and what it loads: an Open Inference Protocol v2 server over HTTP, the
 * embedded `Runtime`, or the in-process baselines. A target knows how to describe a model, how to send one
 * request, and (when it can) how much of the latency the server spent queueing versus computing.
 */
import type { Classify } from '../load/driver.js';
import type { ModelInfo } from '../inputs.js';
import type { WireTensor } from '../protocol/v2-codec.js';

/** Cumulative server-side totals; the harness reports the difference across a step. */
export interface ServerCounters {
  queueCount: number;
  queueSeconds: number;
  computeCount: number;
  computeSeconds: number;
  /** Requests placed on each instance, by model (embedded serval only). */
  placements?: Record<string, number[]>;
}

export interface BenchTarget {
  /** One line for reports, e.g. `http json http://127.0.0.1:8000` or `serval embedded (least_outstanding)`. */
  readonly description: string;
  /** Models the target serves and can run. */
  listModels(): Promise<string[]>;
  metadata(model: string): Promise<ModelInfo>;
  /** A function that sends one request for `model`, cycling through `requests`; it rejects on any failure. */
  prepare(model: string, requests: WireTensor[][]): Promise<() => Promise<void>>;
  /** Server-side totals over `models`, or undefined when the target does not report them. */
  serverCounters(models: string[]): Promise<ServerCounters | undefined>;
  close(): Promise<void>;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Failure reason for the report: the error's stable `code` (ServalError codes such as QUEUE_FULL, `HTTP_503`
 * from the HTTP target, socket codes such as ECONNRESET), `CLIENT_TIMEOUT` for the client's own request
 * timeout, `ERROR` for anything without a code.
 */
export const classifyFailure: Classify = (err) => {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(code)) return { reason: 'ERROR', message };
  return { reason: TIMEOUT_CODES.has(code) ? 'CLIENT_TIMEOUT' : code, message };
};

/** Cycles through prepared items without allocating per call. */
export function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i];
    i = i + 1 === items.length ? 0 : i + 1;
    return item;
  };
}
