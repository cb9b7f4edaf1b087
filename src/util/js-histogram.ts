/**
 * A fixed-bucket histogram kept in JavaScript, for the numbers serval measures on the main thread (ensemble
 * request and step times, ensemble uncertainty). Snapshots have the shape of the native ones (`HistogramSnapshot`),
 * so stats and metrics treat both alike.
 */
import type { HistogramSnapshot } from '../api-types.js';

/** Seconds, 25 µs to 10 s, roughly ×2.5 per bucket. */
export const LATENCY_BOUNDS_S: readonly number[] = [
  25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 10,
];

export class JsHistogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  /** `bounds` ascending upper bounds; a last +Inf bucket is added. */
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: [...this.bounds, Infinity], counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

export function emptyHistogram(): HistogramSnapshot {
  return { bounds: [Infinity], counts: [0], sum: 0, count: 0 };
}
