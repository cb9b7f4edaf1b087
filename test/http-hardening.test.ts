/**
 * HTTP transport hardening, on both transports: ambiguous framing (several Content-Length values) is
 * refused with 400, JSON bodies have their own cap, the bytes buffered across connections have a
 * budget (503 past it, given back when requests end), and slow bodies are cut off with 408.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../src/server/server.js';
import { call } from './fixtures/http-call.js';
import { FakeRuntime } from './fixtures/fake-runtime.js';

interface RawReply {
  /** Everything the server sent. */
  text: string;
  status: number;
  /** The JSON body, when there is one. */
  json: any;
  /** The server closed the connection (rather than the test giving up after `waitMs`). */
  closedByServer: boolean;
}

/** Writes `head` (and `body`) on a fresh connection and collects the reply until the server closes it or `waitMs` passes. */
function raw(port: number, head: string, body: Buffer | string = '', waitMs = 5000): Promise<RawReply> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      let json: unknown;
      try {
        json = JSON.parse(bodyText);
      } catch {
        json = undefined;
      }
      resolve({ text, status, json, closedByServer });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    sock.on('data', (d) => void (text += d.toString()));
    sock.on('error', () => {});
    sock.on('close', () => finish(true));
    sock.write(head.replaceAll('\n', '\r\n') + '\r\n');
    if (body !== '') sock.write(body);
  });
}

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(transport: 'uws' | 'node', options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ runtime: new FakeRuntime(), port: 0, transport, ...options });
  servers.push(server);
  return server;
}

describe.each(['uws', 'node'] as const)('HTTP hardening on %s', (transport) => {
  it('bad input: two different Content-Length headers → 400 with a JSON error, connection closed', async () => {
    const server = await serve(transport);
    const r = await raw(server.port, 'POST /v2/repository/index HTTP/1.1\nHost: x\nContent-Length: 2\nContent-Length: 20\n', '{}');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/Content-Length/i);
    expect(r.closedByServer).toBe(true);
    expect((await call(server.url, 'GET', '/v2/health/live')).status).toBe(200);
  });

  it('bad input: Content-Length with Transfer-Encoding is never served', async () => {
    const server = await serve(transport);
    const r = await raw(server.port, 'POST /v2/repository/index HTTP/1.1\nHost: x\nContent-Length: 2\nTransfer-Encoding: chunked\n', '2\r\n{}\r\n0\r\n\r\n');
    // node:http answers 400; this uWS build closes the connection without an answer. Neither serves it.
    expect(r.closedByServer).toBe(true);
    expect([0, 400]).toContain(r.status);
  });

  it('a JSON body over --max-json-body-mb → 413 naming the flag; a binary body of that size is read', async () => {
    const server = await serve(transport, { maxJsonBodyMb: 0.01, maxBodyMb: 1 });
    const json = Buffer.from(`{${' '.repeat(20_000)}}`);
    const tooBig = await raw(server.port, `POST /v2/repository/index HTTP/1.1\nHost: x\nContent-Length: ${json.length}\n`, json);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.error).toMatch(/--max-json-body-mb/);
    // As many bytes of binary tensor data behind a small JSON header are served.
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [5000], datatype: 'INT32', parameters: { binary_data_size: 20_000 } }] }));
    const ok = await call(server.url, 'POST', '/v2/models/echo/infer', Buffer.concat([header, Buffer.alloc(20_000)]), {
      'inference-header-content-length': String(header.length),
    });
    expect(ok.status).toBe(200);
    const headerTooBig = await raw(
      server.port,
      `POST /v2/models/scorer/infer HTTP/1.1\nHost: x\nInference-Header-Content-Length: 20000\nContent-Length: ${json.length}\n`,
      json,
    );
    expect(headerTooBig.status).toBe(413);
  });

  it('bodies held past --max-buffered-body-mb → 503 with Retry-After; the budget comes back when a request ends', async () => {
    const server = await serve(transport, { maxBufferedBodyMb: 1, maxBodyMb: 1, maxJsonBodyMb: 1 });
    const small = Buffer.from(`{${' '.repeat(400 * 1024)}}`);
    const post = () => raw(server.port, `POST /v2/repository/index HTTP/1.1\nHost: x\nContent-Length: ${small.length}\nConnection: close\n`, small);
    expect((await post()).status).toBe(200);
    // A slow sender declares 800 KB and sends 10 bytes: its declared length is held for it.
    const slow = net.connect(server.port, '127.0.0.1');
    slow.on('error', () => {});
    slow.write(`POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nContent-Length: ${800 * 1024}\r\n\r\n{         `);
    let refused: RawReply | undefined;
    await expect.poll(async () => (refused = await post()).status, { timeout: 5000, interval: 20 }).toBe(503);
    expect(refused!.json.error).toMatch(/--max-buffered-body-mb/);
    expect(refused!.text.toLowerCase()).toContain('retry-after: 1');
    expect(refused!.closedByServer).toBe(true);
    expect((await call(server.url, 'GET', '/v2/health/live')).status).toBe(200);
    slow.destroy();
    await expect.poll(async () => (await post()).status, { timeout: 5000, interval: 20 }).toBe(200);
  });

  it('a body that does not arrive within --body-timeout-secs → 408 with a JSON error, connection closed', async () => {
    const server = await serve(transport, { bodyTimeoutMs: 300 });
    const started = Date.now();
    const r = await raw(server.port, 'POST /v2/repository/index HTTP/1.1\nHost: x\nContent-Length: 100\n', '{   ');
    expect(r.status).toBe(408);
    expect(r.json.error).toMatch(/--body-timeout-secs/);
    expect(r.closedByServer).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await call(server.url, 'GET', '/v2/health/live')).status).toBe(200);
  });
});

describe('HTTP/1.0 on node:http', () => {
  it('an HTTP/1.0 request gets its answer and the connection closes', async () => {
    const server = await serve('node');
    const r = await raw(server.port, 'GET /v2/health/live HTTP/1.0\n');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ live: true });
    expect(r.closedByServer).toBe(true);
  });
});
