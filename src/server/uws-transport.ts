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
  bodyTooLarge,
  InflightTracker,
  runHandler,
  shuttingDown,
  statusLine,
  type HttpTransport,
  type IncomingRequest,
  type OutgoingResponse,
  type TransportOptions,
} from './http-transport.js';

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

  constructor(private readonly uws: UwsModule, private readonly options: TransportOptions) {
    this.app = uws.App();
    this.app.any('/*', (res, req) => this.onRequest(res, req));
  }

  get inflight(): number {
    return this.tracker.inflight;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      // Exclusive: by default uSockets sets SO_REUSEPORT, so a second server on a busy port would
      // silently share it instead of failing.
      const listen = this.app.listen as unknown as (
        host: string, port: number, options: number, cb: (socket: Uws.us_listen_socket | false) => void,
      ) => void;
      listen.call(this.app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port} (address in use or not available)`));
          return;
        }
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
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

  async close(): Promise<void> {
    this.stopListening();
    this.tracker.answerAll();
    // Give the 503s just written a moment to leave before closing every socket.
    await new Promise((r) => setTimeout(r, 50));
    (this.app as unknown as { close(): void }).close();
  }

  /** The one place a uWS request is handled: headers, body with cap, abort, async handler, corked write. */
  private onRequest(res: Uws.HttpResponse, req: Uws.HttpRequest): void {
    const { maxBodyBytes, handler, logger } = this.options;
    const abort = new AbortController();
    let settled = false; // answered or aborted: the response must not be touched again
    const done = this.tracker.begin(() => respond(shuttingDown(), true));
    res.onAborted(() => {
      if (settled) return;
      settled = true;
      abort.abort();
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
      signal: abort.signal,
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
      runHandler(handler, incoming, logger).then((out) => respond(out));
    };

    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      respond(bodyTooLarge(maxBodyBytes), true);
      return;
    }
    const hasBody = (declared !== undefined && declared !== '0') || headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      dispatch(EMPTY);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBodyBytes) {
        respond(bodyTooLarge(maxBodyBytes), true);
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) dispatch(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  }
}

const EMPTY = Buffer.alloc(0);
/** uSockets' listen option (the native module exports it; its typings only declare the enum). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
