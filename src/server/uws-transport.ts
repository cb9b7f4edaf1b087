/**
 * The uWebSockets.js transport. The unofficial build serval depends on quietly falls back to a slow
 * JavaScript implementation when its native binary fails to load, so this file loads the `.node`
 * binary itself and reports failure instead (the caller then uses node:http and says so).
 *
 * uWS rules this file keeps: a response is unusable after `onAborted` fires; writes outside the
 * synchronous part of the route handler go inside `res.cork`; body chunks are copied before the
 * `onData` callback returns (uWS neuters them).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Uws from 'uWebSockets.js';
import {
  InflightTracker,
  runHandler,
  shuttingDown,
  statusLine,
  type HttpTransport,
  type IncomingRequest,
  type OutgoingResponse,
  type TransportOptions,
} from './http-transport.js';
import type { RequestHandle } from '../api-types.js';
import { BodyBudget, framingError, RequestBody, type BodyLimits } from './request-body.js';

type UwsModule = typeof Uws;

export type UwsLoadResult = { ok: true; uws: UwsModule } | { ok: false; reason: string };

/** Loads the native uWS binary for this platform and Node ABI; never the JS fallback. */
export function loadNativeUws(): UwsLoadResult {
  const require = createRequire(import.meta.url);
  try {
    const pkgDir = path.dirname(require.resolve('uWebSockets.js/package.json'));
    const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    const uws = require(path.join(pkgDir, 'binaries', file)) as UwsModule;
    if (typeof uws.App !== 'function' || typeof uws.us_socket_local_port !== 'function') {
      return { ok: false, reason: `${file} does not export App and us_socket_local_port` };
    }
    return { ok: true, uws };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

export class UwsTransport implements HttpTransport {
  readonly kind = 'uws' as const;
  private readonly app: Uws.TemplatedApp;
  private listenSocket: Uws.us_listen_socket | undefined;
  private readonly tracker = new InflightTracker();
  private closeAfterResponse = false;
  private readonly limits: BodyLimits;

  constructor(private readonly uws: UwsModule, private readonly options: TransportOptions) {
    this.limits = { ...options, budget: new BodyBudget(options.maxBufferedBodyBytes) };
    this.app = uws.App();
    this.app.any('/*', (res, req) => this.onRequest(res, req));
  }

  get inflight(): number {
    return this.tracker.inflight;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      // Exclusive unless this server's own HTTP threads share the port: by default uSockets sets
      // SO_REUSEPORT, so a second server on a busy port would silently share it instead of failing.
      const listen = this.app.listen as unknown as (
        host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void,
      ) => void;
      listen.call(this.app, host, port, this.options.sharePort ? LIBUS_LISTEN_DEFAULT : LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
          return;
        }
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  /**
   * Fails as `listen` would when `host:port` is in use; otherwise binds it exclusively for a moment, lets it go
   * and resolves with it (port 0: a free one). For a server whose HTTP threads share the port (SO_REUSEPORT):
   * on its own it would join a busy port, and uSockets sets SO_REUSEPORT only on a port given explicitly.
   */
  probeExclusive(host: string, port: number): Promise<number> {
    const app = this.uws.App();
    const listen = app.listen as unknown as (
      host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void,
    ) => void;
    return new Promise((resolve, reject) => {
      listen.call(app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
        const bound = socket ? this.uws.us_socket_local_port(socket) : 0;
        if (socket) this.uws.us_listen_socket_close(socket);
        (app as unknown as { close(): void }).close();
        if (socket) resolve(bound);
        else reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
      });
    });
  }

  stopListening(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  closeConnectionsAfterResponse(): void {
    this.closeAfterResponse = true;
  }

  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.tracker.whenIdle(timeoutMs);
  }

  /**
   * Closes every connection and the listener at once, unanswered: for a thread about to die. (A worker thread
   * that ends with a uWS app open aborts the whole process: uWS leaves a handle on the thread's event loop.)
   */
  closeNow(): void {
    this.listenSocket = undefined;
    (this.app as unknown as { close(): void }).close();
  }

  async close(): Promise<void> {
    this.stopListening();
    this.tracker.answerAll();
    // Give the 503s just written a moment to leave before closing every socket.
    await new Promise((r) => setTimeout(r, 50));
    (this.app as unknown as { close(): void }).close();
  }

  /** The one place a uWS request is handled: headers, body with caps and timeout, abort, async handler, corked write. */
  private onRequest(res: Uws.HttpResponse, req: Uws.HttpRequest): void {
    const { handler, logger, bodyTimeoutMs } = this.options;
    const handle: RequestHandle = {};
    let settled = false; // answered or aborted: the response must not be touched again
    let body: RequestBody | undefined; // holds budget until the request is answered or aborted
    const begun = this.tracker.begin(() => respond(shuttingDown(), true));
    const done = (): void => void (body?.release(), begun());
    res.onAborted(() => {
      if (settled) return;
      settled = true;
      handle.cancel?.(); // a request the runtime still holds queued is dropped
      done();
    });

    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    });
    const incoming: IncomingRequest = {
      method: req.getMethod().toUpperCase(),
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      headers,
      body: EMPTY,
      handle,
    };

    const respond = (out: OutgoingResponse, closeConnection = false): void => {
      if (settled) return;
      settled = true;
      res.cork(() => {
        res.writeStatus(statusLine(out.status));
        for (const [k, v] of Object.entries(out.headers ?? {})) res.writeHeader(k, v);
        res.end(out.body ?? '', closeConnection || this.closeAfterResponse);
      });
      done();
    };
    const dispatch = (body: Buffer): void => {
      incoming.body = body;
      runHandler(handler, incoming, logger, respond);
    };

    const badFraming = framingError(headers);
    if (badFraming) {
      respond(badFraming, true);
      return;
    }
    const reading = (body = new RequestBody(headers, this.limits));
    if (reading.rejection) {
      respond(reading.rejection, true);
      return;
    }
    if (!reading.expectsData) {
      dispatch(EMPTY);
      return;
    }
    reading.armTimeout(bodyTimeoutMs, (timedOut) => respond(timedOut, true));
    res.onData((chunk, isLast) => {
      if (settled) return;
      const rejection = reading.add(new Uint8Array(chunk), true);
      if (rejection) respond(rejection, true);
      else if (isLast) dispatch(reading.bytes());
    });
  }
}

const EMPTY = Buffer.alloc(0);
/** uSockets' listen option (the native module exports it; its typings only declare the enum). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
const LIBUS_LISTEN_DEFAULT = 0;
