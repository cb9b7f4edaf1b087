/**
 * The load generator's gRPC unary calls over node:http2 directly: requests framed once before the load
 * (gRPC's 5-byte length prefix), one HTTP/2 stream per call, status from `grpc-status`. A load generator
 * should cost less CPU than the server it measures; grpc-js's client stack (interceptors, resolver, load
 * balancing, per-call protobuf work) took most of a core here and left the server mostly idle, so the
 * timed path skips it. Control-plane calls stay on grpc-js (targets/grpc.ts).
 */
import http2 from 'node:http2';

/** A failed call: `status` is the gRPC status code (or UNAVAILABLE for a transport failure). */
export class GrpcCallError extends Error {
  constructor(readonly status: number, message: string, readonly transportCode?: string) {
    super(message);
    this.name = 'GrpcCallError';
  }
}

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** A protobuf message as a gRPC length-prefixed message (uncompressed). */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

export class GrpcH2Channel {
  private session: http2.ClientHttp2Session | undefined;

  constructor(private readonly authority: string) {}

  /** One unary call; resolves with the response message (unframed), rejects with GrpcCallError. */
  unary(path: string, framedRequest: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.connect().request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        });
      } catch (err) {
        reject(new GrpcCallError(UNAVAILABLE, (err as Error).message, (err as { code?: string }).code));
        return;
      }
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const readStatus = (h: http2.IncomingHttpHeaders): void => {
        if (h['grpc-status'] !== undefined) {
          status = String(h['grpc-status']);
          message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', readStatus);
      stream.on('trailers', readStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.on('error', (err: Error & { code?: string }) => reject(new GrpcCallError(UNAVAILABLE, err.message, err.code)));
      stream.on('close', () => {
        if (status === undefined) {
          const timedOut = stream.rstCode === http2.constants.NGHTTP2_CANCEL;
          reject(new GrpcCallError(timedOut ? DEADLINE_EXCEEDED : UNAVAILABLE, timedOut ? 'client deadline' : `stream closed without a status (rst ${stream.rstCode})`));
          return;
        }
        if (status !== '0') {
          reject(new GrpcCallError(Number(status), message));
          return;
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
          reject(new GrpcCallError(13, `malformed response framing (${body.length} bytes)`));
          return;
        }
        resolve(body.subarray(5));
      });
      stream.end(framedRequest);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(`http://${this.authority}`);
    // Failures surface on the streams; an unhandled session error must not end the process.
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }
}

/** Whether a serialized message has top-level field `field` (any wire type): a cheap shape check. */
export function hasField(message: Uint8Array, field: number): boolean {
  let off = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (off >= message.length) throw new RangeError('truncated varint');
      const b = message[off++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  try {
    while (off < message.length) {
      const key = varint();
      const number = Math.floor(key / 8);
      if (number === field) return true;
      switch (key & 7) {
        case 0: varint(); break;
        case 1: off += 8; break;
        case 2: {
          const length = varint(); // read before adding: `off += varint()` would add to the old offset
          off += length;
          break;
        }
        case 5: off += 4; break;
        default: return false;
      }
    }
  } catch {
    return false;
  }
  return false;
}
