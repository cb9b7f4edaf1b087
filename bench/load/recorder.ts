/**
 * Per-request bookkeeping for one load step, cut into measurement windows.
 *
 * A request belongs to the window of its *intended* send time (its arrival): its latency, its SLO outcome and
 * its failure (if any) are charged there, however late it completes. Throughput is counted the other way, by
 * completion time, so an overloaded server is not credited with the arrival rate. Every request that begins
 * ends exactly once: as a success, as a failure with a reason, or, when the step gives up waiting, as
 * `UNFINISHED`. Nothing is dropped.
 */
import { LatencyHistogram } from '../stats/histogram.js';

/** Failure reasons the load generator itself assigns (targets add theirs: QUEUE_FULL, HTTP_503, ECONNRESET...). */
export const UNFINISHED = 'UNFINISHED';
export const NOT_SENT = 'NOT_SENT';

export interface RequestToken {
  readonly window: number;
  readonly model: number;
  readonly intendedMs: number;
  done: boolean;
}

/** What one window knows about one model's requests. */
export class ModelCell {
  readonly latency = new LatencyHistogram();
  readonly failures = new Map<string, number>();
  arrivals = 0;
  withinSlo = 0;

  get failed(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }

  add(other: ModelCell): void {
    this.latency.add(other.latency);
    for (const [k, v] of other.failures) this.failures.set(k, (this.failures.get(k) ?? 0) + v);
    this.arrivals += other.arrivals;
    this.withinSlo += other.withinSlo;
  }
}

export class MeasurementWindow {
  readonly cells: ModelCell[];
  /** Successes whose completion time falls in this window. */
  completedOk = 0;
  /** Requests that arrived in this window and have not ended yet. */
  inflight = 0;

  constructor(readonly index: number, readonly startMs: number, readonly endMs: number, models: number) {
    this.cells = Array.from({ length: models }, () => new ModelCell());
  }

  /** All models merged. */
  total(): ModelCell {
    const out = new ModelCell();
    for (const c of this.cells) out.add(c);
    return out;
  }
}

export class StepRecorder {
  readonly windows: MeasurementWindow[] = [];
  /** How late the generator sent each request against its intended time (open loop only). */
  readonly lag = new LatencyHistogram();
  /** The first error message seen for each failure reason, to show the user what went wrong. */
  readonly failureExamples = new Map<string, string>();
  private readonly open = new Set<RequestToken>();

  constructor(
    readonly t0: number,
    readonly windowMs: number,
    readonly models: number,
    readonly sloMs?: number,
  ) {}

  get inflight(): number {
    return this.open.size;
  }

  windowAt(ms: number): MeasurementWindow {
    const index = Math.max(0, Math.floor((ms - this.t0) / this.windowMs));
    while (this.windows.length <= index) {
      const i = this.windows.length;
      this.windows.push(new MeasurementWindow(i, this.t0 + i * this.windowMs, this.t0 + (i + 1) * this.windowMs, this.models));
    }
    return this.windows[index];
  }

  begin(intendedMs: number, model: number): RequestToken {
    const w = this.windowAt(intendedMs);
    w.cells[model].arrivals++;
    w.inflight++;
    const token: RequestToken = { window: w.index, model, intendedMs, done: false };
    this.open.add(token);
    return token;
  }

  succeed(token: RequestToken, endMs: number): void {
    if (!this.close(token)) return;
    const latency = endMs - token.intendedMs;
    const cell = this.windows[token.window].cells[token.model];
    cell.latency.recordMs(latency);
    if (this.sloMs !== undefined && latency <= this.sloMs) cell.withinSlo++;
    this.windowAt(endMs).completedOk++;
  }

  fail(token: RequestToken, reason: string, message?: string): void {
    if (!this.close(token)) return;
    const failures = this.windows[token.window].cells[token.model].failures;
    failures.set(reason, (failures.get(reason) ?? 0) + 1);
    if (message && !this.failureExamples.has(reason)) this.failureExamples.set(reason, message);
  }

  /** Ends every request still open as `reason` (late completions are then ignored). */
  failOpen(reason: string, message?: string): void {
    for (const token of [...this.open]) this.fail(token, reason, message);
  }

  /** Whether every request that arrived in windows [from, to] has ended. */
  complete(from: number, to: number): boolean {
    for (let i = from; i <= to; i++) if ((this.windows[i]?.inflight ?? 0) > 0) return false;
    return true;
  }

  private close(token: RequestToken): boolean {
    if (token.done) return false;
    token.done = true;
    this.open.delete(token);
    this.windows[token.window].inflight--;
    return true;
  }
}
