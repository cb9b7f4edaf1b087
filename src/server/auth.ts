/**
 * Optional bearer-token authentication for `serval serve` (`--auth-token-file`). Tokens are compared
 * in constant time (both sides hashed to equal length first).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Paths anyone may read: probes and Prometheus scrapes. */
export function isPublicPath(path: string): boolean {
  return path === '/metrics' || path === '/v2/health/live' || path === '/v2/health/ready';
}

export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string | { digest: Uint8Array }) {
    if (token === '') throw new InvalidArgumentError('the auth token is empty');
    this.expected = typeof token === 'string' ? digest(token) : Buffer.from(token.digest);
  }

  /** The token's SHA-256: what an HTTP thread needs to check requests the same way (src/server/http-thread-worker.ts). */
  get digest(): Uint8Array {
    return new Uint8Array(this.expected);
  }

  /** Reads the token from a file (surrounding whitespace ignored). */
  static fromFile(file: string): BearerAuth {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`cannot read --auth-token-file ${file}: ${(err as Error).message}`);
    }
    const token = text.trim();
    if (token === '') throw new InvalidArgumentError(`--auth-token-file ${file} is empty`);
    return new BearerAuth(token);
  }

  /** Whether an `Authorization` header carries the token. */
  accepts(authorization: string | undefined): boolean {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    return timingSafeEqual(digest(m?.[1] ?? ''), this.expected) && m !== null;
  }
}
