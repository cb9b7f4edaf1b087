/**
 * ArmWindow: what a rollout knows about one arm (version) over one analysis window: requests, the errors
 * the arm itself caused by code, a log-bucket latency histogram (fixed memory, quantiles within 2.5%),
 * SLO hits, running moments of latency and of the first output's values, and a bounded reservoir of
 * output rows for the prediction-drift test. Fed on the event loop, one `record*` call per answer.
 */
import type { InferOutputs } from '../api-types.js';

/** Errors a request causes itself: they say nothing about the arm that answered. */
const CLIENT_CODES = new Set(['INVALID_INPUT', 'INVALID_ARGUMENT', 'CANCELLED', 'UNKNOWN_MODEL']);

export function isArmError(code: string | undefined): boolean {
  return !CLIENT_CODES.has(code ?? 'INTERNAL');
}

const BUCKET_BASE = 0.01; // ms, the first bucket's upper bound
const BUCKET_GROWTH = 1.05;
const BUCKETS = 360; // up to ~0.01 * 1.05^360 ≈ 4e5 ms
const LOG_GROWTH = Math.log(BUCKET_GROWTH);

/** Output rows kept per window for the drift test, and elements kept per row. */
export const RESERVOIR_ROWS = 512;
export const RESERVOIR_ELEMENTS = 16;

export interface ArmSummary {
  requests: number;
  succeeded: number;
  /** Failures this arm caused (client errors excluded), by code. */
  errors: Record<string, number>;
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Share of answered requests within the SLO; undefined without an SLO. */
  sloAttainment?: number;
}

export class ArmWindow {
  requests = 0;
  succeeded = 0;
  armErrors = 0;
  readonly errors: Record<string, number> = {};
  sloHits = 0;
  private readonly buckets = new Uint32Array(BUCKETS);
  private latencySum = 0;
  private latencySq = 0;
  /** Running moments of the first numeric output's first element (the A/B `output:` metric). */
  private outputN = 0;
  private outputSum = 0;
  private outputSq = 0;
  private outputName: string | undefined;
  /** Reservoir of output rows: reservoir[e] holds element e of the kept rows. */
  readonly reservoir: number[][] = [];
  private rowsSeen = 0;
  /** Reservoir of judged answers' latencies (ms), for the rank test of the latency guard. */
  private readonly latencies: number[] = [];
  private latenciesSeen = 0;
  /** Latencies since the last `takeBlockMedian` (one time block of the paired test). */
  private block: number[] = [];

  constructor(private readonly sloMs: number | undefined, private readonly random: () => number, outputName?: string) {
    this.outputName = outputName;
  }

  recordSuccess(latencyMs: number, outputs: InferOutputs | undefined): void {
    this.requests++;
    this.succeeded++;
    this.recordLatency(latencyMs);
    if (this.sloMs !== undefined && latencyMs <= this.sloMs) this.sloHits++;
    if (outputs) this.recordOutputs(outputs);
  }

  recordFailure(latencyMs: number, code: string | undefined): void {
    this.requests++;
    if (!isArmError(code)) return;
    this.armErrors++;
    const key = code ?? 'INTERNAL';
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.recordLatency(latencyMs);
  }

  /** Requests that count for the analysis: answered, or failed by the arm. */
  get judged(): number {
    return this.succeeded + this.armErrors;
  }

  errorRate(): number {
    return this.judged === 0 ? 0 : this.armErrors / this.judged;
  }

  quantileMs(q: number): number {
    const total = this.judged;
    if (total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return BUCKET_BASE * BUCKET_GROWTH ** i;
    }
    return BUCKET_BASE * BUCKET_GROWTH ** (BUCKETS - 1);
  }

  latencyMoments(): { n: number; mean: number; variance: number } {
    return moments(this.judged, this.latencySum, this.latencySq);
  }

  outputMoments(): { n: number; mean: number; variance: number } {
    return moments(this.outputN, this.outputSum, this.outputSq);
  }

  /**
   * The median latency and the share of SLO misses (0 without an SLO) of the answers since the last call
   * (undefined when none), and starts a new block.
   */
  takeBlock(): { median: number; missRate: number } | undefined {
    const b = this.block.sort((x, y) => x - y);
    this.block = [];
    if (b.length === 0) return undefined;
    const median = b.length % 2 === 1 ? b[b.length >> 1]! : (b[b.length / 2 - 1]! + b[b.length / 2]!) / 2;
    const slo = this.sloMs;
    return { median, missRate: slo === undefined ? 0 : b.filter((ms) => ms > slo).length / b.length };
  }

  /** The kept latencies (ms), sorted ascending (a copy). */
  sortedLatencies(): Float64Array {
    return Float64Array.from(this.latencies).sort();
  }

  /** Element e of the kept output rows, sorted ascending (a copy). */
  sortedOutputs(e: number): Float64Array {
    return Float64Array.from(this.reservoir[e] ?? []).sort();
  }

  summary(): ArmSummary {
    return {
      requests: this.requests,
      succeeded: this.succeeded,
      errors: { ...this.errors },
      errorRate: round(this.errorRate()),
      p50Ms: round(this.quantileMs(0.5)),
      p99Ms: round(this.quantileMs(0.99)),
      meanMs: round(this.latencyMoments().mean),
      ...(this.sloMs !== undefined ? { sloAttainment: round(this.judged === 0 ? 1 : this.sloHits / this.judged) } : {}),
    };
  }

  private recordLatency(ms: number): void {
    const i = ms <= BUCKET_BASE ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BUCKET_BASE) / LOG_GROWTH));
    this.buckets[i]!++;
    this.latencySum += ms;
    this.latencySq += ms * ms;
    const slot = reservoirSlot(++this.latenciesSeen, this.random);
    if (slot >= 0) this.latencies[slot] = ms;
    if (this.block.length < RESERVOIR_ROWS) this.block.push(ms);
  }

  private recordOutputs(outputs: InferOutputs): void {
    const name = this.outputName ?? firstNumericOutput(outputs);
    if (name === undefined) return;
    this.outputName = name;
    const t = outputs[name];
    if (!t || Array.isArray(t.data) || typeof (t.data as ArrayLike<unknown>)[0] === 'bigint') return;
    const data = t.data as ArrayLike<number>;
    const rows = t.dims.length === 0 ? 1 : Math.max(1, t.dims[0]!);
    const width = Math.floor(data.length / rows);
    if (width === 0) return;
    for (let r = 0; r < rows; r++) {
      const first = data[r * width]!;
      this.outputN++;
      this.outputSum += first;
      this.outputSq += first * first;
      this.keepRow(data, r * width, Math.min(width, RESERVOIR_ELEMENTS));
    }
  }

  private keepRow(data: ArrayLike<number>, offset: number, width: number): void {
    const slot = reservoirSlot(++this.rowsSeen, this.random);
    if (slot < 0) return;
    for (let e = 0; e < width; e++) {
      const column = (this.reservoir[e] ??= []);
      column[slot] = data[offset + e]!;
    }
  }
}

/** Vitter's algorithm R: the slot of the `seen`-th item (every item has the same chance to be kept), or -1 to drop it. */
function reservoirSlot(seen: number, random: () => number): number {
  if (seen <= RESERVOIR_ROWS) return seen - 1;
  const slot = Math.floor(random() * seen);
  return slot < RESERVOIR_ROWS ? slot : -1;
}

function firstNumericOutput(outputs: InferOutputs): string | undefined {
  for (const [name, t] of Object.entries(outputs)) {
    if (!Array.isArray(t.data) && typeof (t.data as ArrayLike<unknown>)[0] === 'number') return name;
  }
  return undefined;
}

function moments(n: number, sum: number, sq: number): { n: number; mean: number; variance: number } {
  if (n === 0) return { n, mean: 0, variance: 0 };
  const mean = sum / n;
  return { n, mean, variance: n > 1 ? Math.max(0, (sq - n * mean * mean) / (n - 1)) : 0 };
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
