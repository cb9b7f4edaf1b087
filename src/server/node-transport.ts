/**
 * The node:http transport: the fallback when uWebSockets.js cannot load, and the reference behaviour
 * the uWS transport matches (same body cap, same abort and drain bookkeeping).
 */
import http from 'node:http';
import {
  bodyTooLarge,
  InflightTracker,
  runHandler,
  shuttingDown,
  type HttpTransport,
  type IncomingRequest,
  type OutgoingResponse,
  type TransportOptions,
} from './http-transport.js';

export class NodeHttpTransport implements HttpTransport {
  readonly kind = 'node' as const;
  private readonly server: http.Server;
  private readonly tracker = new InflightTracker();
  private closeAfterResponse = false;

  constructor(private readonly options: TransportOptions) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 10_000;
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
    const { maxBodyBytes, handler, logger } = this.options;
    const abort = new AbortController();
    let settled = false;
    const done = this.tracker.begin(() => respond(shuttingDown(), true));
    res.on('close', () => {
      if (settled) return;
      settled = true;
      abort.abort();
      done();
    });

    const respond = (out: OutgoingResponse, closeConnection = false): void => {
      if (settled) return;
      settled = true;
      const headers: Record<string, string> = { ...out.headers };
      if (closeConnection || this.closeAfterResponse) headers['connection'] = 'close';
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
      signal: abort.signal,
    };

    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      respond(bodyTooLarge(maxBodyBytes), true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBodyBytes) {
        req.pause();
        respond(bodyTooLarge(maxBodyBytes), true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      incoming.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      runHandler(handler, incoming, logger).then((out) => respond(out));
    });
    req.on('error', () => {
      /* the client went away; 'close' on res settles the request */
    });
  }
}
