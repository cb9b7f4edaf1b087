/**
 * Request bodies, for both transports: the framing check (one numeric Content-Length, never with
 * Transfer-Encoding), the per-request caps (`--max-body-mb`; `--max-json-body-mb` for the JSON part,
 * since a JSON body costs far more to parse than its bytes to hold), and the budget of body bytes
 * buffered across all connections at once (`--max-buffered-body-mb`). Every rejection is a response
 * to send before closing the connection (the rest of the body is never read).
 */
import { errorResponse, type OutgoingResponse } from './http-transport.js';

export interface BodyLimits {
  /** Largest body of one request. */
  maxBodyBytes: number;
  /** Largest JSON part of one request: the whole body, or `Inference-Header-Content-Length` bytes of it. */
  maxJsonBodyBytes: number;
  /** Body bytes all requests together may hold while being read and served. */
  budget: BodyBudget;
}

/** A count of buffered body bytes shared by every connection of a transport (one event loop: no locking). */
export class BodyBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  get bufferedBytes(): number {
    return this.used;
  }

  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

const mb = (bytes: number): number => Number((bytes / (1024 * 1024)).toPrecision(3));

export function bodyTooLarge(maxBodyBytes: number): OutgoingResponse {
  return errorResponse(413, `request body exceeds the ${mb(maxBodyBytes)} MB limit (--max-body-mb)`);
}

function jsonTooLarge(maxJsonBodyBytes: number): OutgoingResponse {
  return errorResponse(
    413,
    `JSON request body exceeds the ${mb(maxJsonBodyBytes)} MB limit (--max-json-body-mb); send large tensors with the binary tensor data extension`,
  );
}

function overBudget(budget: BodyBudget): OutgoingResponse {
  return errorResponse(
    503,
    `the server is holding ${mb(budget.limitBytes)} MB of request bodies already (--max-buffered-body-mb); retry later`,
    { 'retry-after': '1' },
  );
}

function bodyTimedOut(timeoutMs: number): OutgoingResponse {
  return errorResponse(408, `request body not received within ${timeoutMs / 1000} s (--body-timeout-secs)`);
}

/**
 * Rejects what a proxy in front could read differently from us (request smuggling): several or
 * non-numeric Content-Length values (uWS hands them over joined by ", "), or Content-Length with
 * Transfer-Encoding. node:http's parser already answers these with 400 itself.
 */
export function framingError(headers: Record<string, string>): OutgoingResponse | undefined {
  const declared = headers['content-length'];
  if (declared === undefined) return undefined;
  if (!/^\d+$/.test(declared)) {
    return errorResponse(400, declared.includes(',') ? 'more than one Content-Length header' : `invalid Content-Length "${declared}"`);
  }
  if (headers['transfer-encoding'] !== undefined) return errorResponse(400, 'Content-Length together with Transfer-Encoding');
  return undefined;
}

/**
 * One request's body as it arrives: checks the caps and takes budget as bytes come (all of a declared
 * Content-Length up front), and gives it back on `release()` (when the request is answered or aborted).
 */
export class RequestBody {
  /** The first rejection; set by the constructor (declared sizes) or by `add`. */
  rejection: OutgoingResponse | undefined;
  /** False when there is no body to read (no Content-Length or a zero one, and no Transfer-Encoding). */
  readonly expectsData: boolean;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private taken = 0;
  private readonly cap: number;
  private deadline = Infinity;
  private onTimeout: (() => void) | undefined;
  private sweep: BodySweep | undefined;

  constructor(headers: Record<string, string>, private readonly limits: BodyLimits) {
    const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    this.expectsData = (declared !== undefined && declared > 0) || headers['transfer-encoding'] !== undefined;
    const jsonHeader = headers['inference-header-content-length'];
    // Without Inference-Header-Content-Length the body is all JSON; with it, only its first N bytes are
    // (a malformed value is the route's to reject).
    const jsonLength = jsonHeader === undefined || jsonHeader === '' ? undefined : /^\d+$/.test(jsonHeader.trim()) ? Number(jsonHeader.trim()) : 0;
    this.cap = jsonLength === undefined ? Math.min(limits.maxBodyBytes, limits.maxJsonBodyBytes) : limits.maxBodyBytes;
    if (jsonLength !== undefined && jsonLength > limits.maxJsonBodyBytes) this.rejection = jsonTooLarge(limits.maxJsonBodyBytes);
    else if (declared !== undefined && declared > this.cap) this.rejection = this.tooLarge();
    else if (declared !== undefined && declared > 0 && !this.take(declared)) this.rejection = overBudget(limits.budget);
  }

  /**
   * Calls `onTimeout` (which answers 408) unless `bytes()` or `release()` comes within `timeoutMs` (checked
   * by one sweep per timeout for every body being read, at a quarter of the timeout: no timer per request).
   */
  armTimeout(timeoutMs: number, onTimeout: (response: OutgoingResponse) => void): void {
    this.deadline = performance.now() + timeoutMs;
    this.onTimeout = () => onTimeout(bodyTimedOut(timeoutMs));
    this.sweep = sweepFor(timeoutMs);
    this.sweep.add(this);
  }

  /** The sweep's check: past its deadline, the body stops waiting and the request is answered 408. */
  expireIfLate(now: number): boolean {
    if (now < this.deadline) return false;
    const fire = this.onTimeout;
    this.disarm();
    fire?.();
    return true;
  }

  private disarm(): void {
    this.sweep?.delete(this);
    this.sweep = undefined;
    this.onTimeout = undefined;
  }

  /** Appends a chunk (copied when `copy`: uWS reuses its memory); returns the rejection once the body breaks a limit. */
  add(chunk: Uint8Array, copy: boolean): OutgoingResponse | undefined {
    if (this.rejection) return this.rejection;
    this.size += chunk.byteLength;
    if (this.size > this.cap) return (this.rejection = this.tooLarge());
    if (this.size > this.taken && !this.take(this.size - this.taken)) return (this.rejection = overBudget(this.limits.budget));
    this.chunks.push(copy ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return undefined;
  }

  /** The whole body. */
  bytes(): Buffer {
    this.disarm();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  /** Gives the budget back and stops the timer; safe to call more than once. */
  release(): void {
    this.disarm();
    this.limits.budget.give(this.taken);
    this.taken = 0;
  }

  private take(bytes: number): boolean {
    if (!this.limits.budget.tryTake(bytes)) return false;
    this.taken += bytes;
    return true;
  }

  private tooLarge(): OutgoingResponse {
    return this.cap < this.limits.maxBodyBytes ? jsonTooLarge(this.cap) : bodyTooLarge(this.limits.maxBodyBytes);
  }
}

/** Bodies being read with the same timeout, checked by one interval timer that runs only while there are some. */
class BodySweep {
  private readonly pending = new Set<RequestBody>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  add(body: RequestBody): void {
    this.pending.add(body);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), this.periodMs);
      this.timer.unref();
    }
  }

  delete(body: RequestBody): void {
    this.pending.delete(body);
  }

  private check(): void {
    const now = performance.now();
    for (const body of this.pending) body.expireIfLate(now);
    // Stopped only by a check that finds nothing to watch: back-to-back requests reuse the running timer.
    if (this.pending.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const SWEEPS = new Map<number, BodySweep>();

function sweepFor(timeoutMs: number): BodySweep {
  let sweep = SWEEPS.get(timeoutMs);
  if (sweep === undefined) {
    sweep = new BodySweep(Math.max(1, Math.min(1000, timeoutMs / 4)));
    SWEEPS.set(timeoutMs, sweep);
  }
  return sweep;
}
