/**
 * One HTTP abstraction over uWebSockets.js and node:http. The router and routes see only
 * `IncomingRequest` → `OutgoingResponse`; body reading, the body size cap, aborts, corking and
 * connection bookkeeping for draining live in the transports.
 *
 * Selection: uWebSockets.js when its native binary loads, node:http otherwise (with a warning), or
 * what `SERVAL_HTTP_TRANSPORT=uws|node` / the `kind` option asks for.
 */
import { STATUS_CODES } from 'node:http';
import type { Logger } from './logger.js';
import type { RequestHandle } from '../api-types.js';

export interface IncomingRequest {
  /** Upper-case method. */
  method: string;
  /** URL path without the query string, still percent-encoded. */
  path: string;
  query: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  /**
   * Passed to the runtime with the request (InferOptions.handle): the transport calls `handle.cancel` when
   * the client goes away before the response is written, and routes read the version that served it.
   */
  handle: RequestHandle;
}

export interface OutgoingResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type RequestHandler = (req: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>;

export type TransportKind = 'uws' | 'node';

export interface TransportOptions {
  handler: RequestHandler;
  /** Requests with a larger body get 413 and their connection closed; reading stops early. */
  maxBodyBytes: number;
  /** The same for the JSON part of a request (all of it without `Inference-Header-Content-Length`). */
  maxJsonBodyBytes: number;
  /** Body bytes held by all requests at once; a request that would pass it gets 503 and its connection closed. */
  maxBufferedBodyBytes: number;
  /** A request whose body has not fully arrived this long after its headers gets 408 and its connection closed. */
  bodyTimeoutMs: number;
  logger: Logger;
  /**
   * Listen with SO_REUSEPORT so that the HTTP threads of this server can bind the same port (uWS only;
   * src/server/threaded-transport.ts checks first that the port is free). @default false: exclusive
   */
  sharePort?: boolean;
}

export interface HttpTransport {
  readonly kind: TransportKind;
  /** Starts listening; resolves with the bound port (the real one when `port` is 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections; requests on open connections are still answered. */
  stopListening(): void;
  /** From now on every response asks the client to close its connection. */
  closeConnectionsAfterResponse(): void;
  /** Requests accepted and not yet answered (or aborted). */
  readonly inflight: number;
  /** Resolves true once no request is in flight, false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Answers requests still pending with 503, then closes every connection. */
  close(): Promise<void>;
}

export function jsonResponse(status: number, value: unknown, headers?: Record<string, string>): OutgoingResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function errorResponse(status: number, message: string, headers?: Record<string, string>): OutgoingResponse {
  return jsonResponse(status, { error: message }, headers);
}

export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/**
 * Runs the handler and hands its response to `respond`, turning a throw or rejection into a 500 so that
 * every request gets an answer. A handler that answers synchronously is answered in the same turn, and
 * an asynchronous one costs one promise reaction here, not a chain of async frames.
 */
export function runHandler(handler: RequestHandler, req: IncomingRequest, logger: Logger, respond: (out: OutgoingResponse) => void): void {
  const failed = (err: unknown): void => {
    logger.error('request handler failed', { method: req.method, path: req.path, err });
    respond(errorResponse(500, 'internal server error'));
  };
  let out: OutgoingResponse | Promise<OutgoingResponse>;
  try {
    out = handler(req);
  } catch (err) {
    failed(err);
    return;
  }
  if (out instanceof Promise) out.then(respond, failed);
  else respond(out);
}

/**
 * Counts requests in flight, wakes `whenIdle` waiters when the count reaches zero, and can answer
 * every request still pending (at forced close) through the callback each one registered.
 */
export class InflightTracker {
  private readonly pending = new Set<() => void>();
  private waiters: (() => void)[] = [];

  get inflight(): number {
    return this.pending.size;
  }

  /** Registers a request; `forceAnswer` must answer it (it is called at most once, from `answerAll`). */
  begin(forceAnswer: () => void): () => void {
    this.pending.add(forceAnswer);
    return () => {
      if (!this.pending.delete(forceAnswer)) return;
      if (this.pending.size === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Answers every pending request (the transport is about to close its connections). */
  answerAll(): void {
    for (const forceAnswer of [...this.pending]) forceAnswer();
  }

  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}

export function shuttingDown(): OutgoingResponse {
  return errorResponse(503, 'server is shutting down');
}

/**
 * Builds the transport: `kind` (or env `SERVAL_HTTP_TRANSPORT`) picks one; without either, uWS when
 * its native binary loads, node:http otherwise.
 */
export async function createHttpTransport(
  options: TransportOptions,
  kind: TransportKind | 'auto' = envTransportKind(),
): Promise<HttpTransport> {
  if (kind !== 'node') {
    const { loadNativeUws, UwsTransport } = await import('./uws-transport.js');
    const loaded = loadNativeUws();
    if (loaded.ok) return new UwsTransport(loaded.uws, options);
    if (kind === 'uws') throw new Error(`uWebSockets.js native binary did not load: ${loaded.reason}`);
    options.logger.warn('uWebSockets.js native binary did not load; serving with node:http (slower)', {
      reason: loaded.reason,
    });
  }
  const { NodeHttpTransport } = await import('./node-transport.js');
  return new NodeHttpTransport(options);
}

function envTransportKind(): TransportKind | 'auto' {
  const v = process.env['SERVAL_HTTP_TRANSPORT'];
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'uws' || v === 'node') return v;
  throw new Error(`SERVAL_HTTP_TRANSPORT must be uws, node or auto, got "${v}"`);
}
