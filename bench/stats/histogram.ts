/**
 * Latency histograms: HDR histograms (hdr-histogram-js) of microseconds, 3 significant digits, auto-resizing,
 * so percentiles are exact to 0.1% whatever the range. Failed requests are not values in the histogram; they
 * are counted beside it and rank above every success ("latency = ∞") in `percentileWithFailures`.
 */
import * as hdr from 'hdr-histogram-js';

export class LatencyHistogram {
  private readonly h: hdr.Histogram;

  constructor() {
    this.h = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
  }

  static decode(base64: string): LatencyHistogram {
    const out = new LatencyHistogram();
    out.h.add(hdr.decodeFromCompressedBase64(base64));
    return out;
  }

  /** Records `count` requests (default 1) that each took `ms`. */
  recordMs(ms: number, count = 1): void {
    const us = Math.max(1, Math.round(ms * 1000));
    if (count === 1) this.h.recordValue(us);
    else this.h.recordValueWithCount(us, count);
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  get count(): number {
    return this.h.totalCount;
  }

  get meanMs(): number {
    return this.h.totalCount === 0 ? NaN : this.h.mean / 1000;
  }

  get maxMs(): number {
    return this.h.totalCount === 0 ? NaN : this.h.maxValue / 1000;
  }

  /** Nearest-rank percentile (0–100) of the recorded values, in ms; NaN when empty. */
  percentileMs(p: number): number {
    return this.h.totalCount === 0 ? NaN : this.h.getValueAtPercentile(p) / 1000;
  }

  /**
   * Nearest-rank percentile over successes *and* `failures`, where every failure counts as an infinite
   * latency: Infinity once the rank falls among the failures, NaN when there are no requests at all.
   */
  percentileWithFailuresMs(p: number, failures: number): number {
    const ok = this.h.totalCount;
    const total = ok + failures;
    if (total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    if (rank > ok) return Infinity;
    return this.h.getValueAtPercentile((rank / ok) * 100) / 1000;
  }

  /** Compressed base64 (HdrHistogram's interchange format), for JSON reports. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }
}
