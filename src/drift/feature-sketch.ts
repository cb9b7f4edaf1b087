/**
 * FeatureSketch: one numeric feature's distribution in fixed memory. It first fills a reference sample
 * (`referenceRows` values); then it keeps only the reference's quantile bin edges and bin shares, and
 * counts each comparison window into the same bins. At the end of a window it scores the window
 * against the reference: population stability index, and the two-sample Kolmogorov-Smirnov distance
 * read at the bin edges (a binned KS, conservative: it can only under-state the true distance).
 */
import { ksPValue } from '../rollout/significance.js';

/** Share given to an empty bin so PSI stays finite (the usual 1e-4 floor). */
const EMPTY_SHARE = 1e-4;

export interface FeatureScore {
  psi: number;
  ks: number;
  pValue: number;
  /** Rows in the scored window. */
  rows: number;
}

export class FeatureSketch {
  private reference: Float64Array | undefined;
  private referenceFill = 0;
  private edges: Float64Array | undefined;
  /** Reference share per bin (bins = edges + 1). */
  private referenceShare: Float64Array | undefined;
  private readonly counts: Uint32Array;
  private windowFill = 0;
  /** Size of the reference the bins were taken from. */
  private referenceN = 0;
  last: FeatureScore | undefined;

  constructor(private readonly referenceRows: number, private readonly windowRows: number, private readonly bins: number) {
    this.reference = new Float64Array(referenceRows);
    this.counts = new Uint32Array(bins);
  }

  get ready(): boolean {
    return this.edges !== undefined;
  }

  /** Adds one value; returns the window's score when this value closed a window. */
  add(x: number): FeatureScore | undefined {
    if (Number.isNaN(x)) return undefined;
    if (this.reference) {
      this.reference[this.referenceFill++] = x;
      if (this.referenceFill === this.referenceRows) this.freezeReference();
      return undefined;
    }
    this.counts[this.binOf(x)]!++;
    if (++this.windowFill < this.windowRows) return undefined;
    this.last = this.score();
    this.counts.fill(0);
    this.windowFill = 0;
    return this.last;
  }

  /** Sets the reference from given values (a reference file) instead of the first rows. */
  setReference(values: ArrayLike<number>): void {
    this.reference = Float64Array.from(values).filter((v) => !Number.isNaN(v));
    this.referenceFill = this.reference.length;
    this.freezeReference();
  }

  private freezeReference(): void {
    const sorted = this.reference!.subarray(0, this.referenceFill).sort();
    this.referenceN = sorted.length;
    const edges: number[] = [];
    for (let k = 1; k < this.bins; k++) {
      const q = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / this.bins))]!;
      if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
    }
    this.edges = Float64Array.from(edges);
    const share = new Float64Array(this.bins);
    for (const x of sorted) share[this.binOf(x)]! += 1 / sorted.length;
    this.referenceShare = share;
    this.reference = undefined;
  }

  /** Bin i holds (edges[i-1], edges[i]]; values above the last edge go to the last used bin. */
  private binOf(x: number): number {
    const e = this.edges!;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x <= e[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private score(): FeatureScore {
    const used = this.edges!.length + 1;
    let psi = 0;
    let ks = 0;
    let cumRef = 0;
    let cumCur = 0;
    for (let i = 0; i < used; i++) {
      const r = this.referenceShare![i]!;
      const c = this.counts[i]! / this.windowFill;
      cumRef += r;
      cumCur += c;
      const rr = Math.max(r, EMPTY_SHARE);
      const cc = Math.max(c, EMPTY_SHARE);
      psi += (cc - rr) * Math.log(cc / rr);
      if (i < used - 1) ks = Math.max(ks, Math.abs(cumCur - cumRef));
    }
    return { psi, ks, pValue: ksPValue(ks, this.referenceN, this.windowFill), rows: this.windowFill };
  }
}
