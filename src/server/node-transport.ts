/**
 * The node:http transport: the fallback when uWebSockets.js cannot load, and the reference behaviour
 * the uWS transport matches (same body cap, same abort and drain bookkeeping).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  errorResponse,
  InflightTracker,
  statusLine,
  runHandler,
  shuttingDown,
  type HttpTransport,
  type IncomingRequest,
  type OutgoingResponse,
  type TransportOptions,
} from './http-transport.js';
import type { RequestHandle } from '../api-types.js';
import { BodyBudget, RequestBody, type BodyLimits } from './request-body.js';

export class NodeHttpTransport implements HttpTransport {
  readonly kind = 'node' as const;
  private readonly server: http.Server;
  private readonly tracker = new InflightTracker();
  private closeAfterResponse = false;
  private readonly limits: BodyLimits;

  constructor(private readonly options: TransportOptions) {
    this.limits = { ...options, budget: new BodyBudget(options.maxBufferedBodyBytes) };
    this.server = http.createServer(
      {
        // Slow headers get the same bound as slow bodies (uWS: 10 s); node's own whole-request timer is
        // off, the body timer below answers with a JSON 408 instead. Node checks these timers only every
        // connectionsCheckingInterval (30 s by default), hence the short interval.
        headersTimeout: options.bodyTimeoutMs,
        requestTimeout: 0,
        connectionsCheckingInterval: Math.max(50, Math.min(1000, options.bodyTimeoutMs / 4)),
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.keepAliveTimeout = 10_000;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => rejectMalformed(err, socket));
  }

  get inflight(): number {
    return this.tracker.inflight;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  stopListening(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  closeConnectionsAfterResponse(): void {
    this.closeAfterResponse = true;
    this.server.closeIdleConnections();
  }

  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.tracker.whenIdle(timeoutMs);
  }

  async close(): Promise<void> {
    this.server.close();
    this.tracker.answerAll();
    this.server.closeIdleConnections();
    // Give the 503s just written a moment to leave before cutting the remaining connections.
    await new Promise((r) => setTimeout(r, 50));
    this.server.closeAllConnections();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { handler, logger, bodyTimeoutMs } = this.options;
    const handle: RequestHandle = {};
    let settled = false;
    let body: RequestBody | undefined; // holds budget until the request is answered or aborted
    const begun = this.tracker.begin(() => respond(shuttingDown(), true));
    const done = (): void => void (body?.release(), begun());
    res.on('close', () => {
      if (settled) return;
      settled = true;
      handle.cancel?.(); // a request the runtime still holds queued is dropped
      done();
    });

    const respond = (out: OutgoingResponse, closeConnection = false): void => {
      if (settled) return;
      settled = true;
      const headers: Record<string, string> = { ...out.headers };
      if (closeConnection || this.closeAfterResponse) headers['connection'] = 'close';
      // A length rather than chunked encoding, as uWS sends: HTTP/1.0 clients cannot read chunks.
      if (out.status !== 204 && out.status !== 304) headers['content-length'] = String(out.body === undefined ? 0 : Buffer.byteLength(out.body));
      res.writeHead(out.status, headers);
      res.end(out.body);
      done();
      if (closeConnection) res.once('finish', () => req.socket.destroySoon());
    };

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const incoming: IncomingRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? '' : url.slice(q + 1),
      headers,
      body: Buffer.alloc(0),
      handle,
    };

    // node:http's parser has already refused bad framing (several Content-Length values, Content-Length
    // with Transfer-Encoding) through 'clientError'.
    const reading = (body = new RequestBody(headers, this.limits));
    if (reading.rejection) {
      respond(reading.rejection, true);
      return;
    }
    if (reading.expectsData) reading.armTimeout(bodyTimeoutMs, (timedOut) => respond(timedOut, true));
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      const rejection = reading.add(chunk, false);
      if (rejection) {
        req.pause();
        respond(rejection, true);
      }
    });
    req.on('end', () => {
      if (settled) return;
      incoming.body = reading.bytes();
      runHandler(handler, incoming, logger, respond);
    });
    req.on('error', () => {
      /* the client went away; 'close' on res settles the request */
    });
  }
}

/**
 * Answers what node:http's parser refused (malformed request line or headers, several Content-Length
 * values, Content-Length with Transfer-Encoding, headers too large or too slow) with a JSON error, then
 * closes the connection.
 */
function rejectMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  // llhttp's reason ("Duplicate Content-Length", "Invalid header value char") is safe to echo.
  const detail = (err as { reason?: unknown }).reason;
  const reason = status === 408
    ? 'request headers not received in time'
    : `malformed HTTP request: ${typeof detail === 'string' ? detail : 'parse error'} (${err.code ?? 'unknown'})`;
  const out = errorResponse(status, reason);
  const body = Buffer.from(out.body as string);
  socket.end(
    `HTTP/1.1 ${statusLine(status)}\r\ncontent-type: application/json\r\ncontent-length: ${body.byteLength}\r\nconnection: close\r\n\r\n${body.toString()}`,
  );
}
