/**
 * Shadow comparison: how the candidate's answer to a copied request differs from the stable answer the
 * client got. Agreement: same shapes, every element within `tolerance`, and (for rows of 2+ elements)
 * the same argmax per row, i.e. the same class. Distance: mean and max absolute element difference.
 */
import type { InferOutputs } from '../api-types.js';
import { round } from './arm-window.js';

export interface OutputComparison {
  agree: boolean;
  /** Mean |stable - candidate| over the numeric elements compared (0 when none). */
  meanAbs: number;
  maxAbs: number;
  elements: number;
}

export function compareOutputs(stable: InferOutputs, candidate: InferOutputs, tolerance: number): OutputComparison {
  let agree = true;
  let sum = 0;
  let max = 0;
  let elements = 0;
  for (const [name, s] of Object.entries(stable)) {
    const c = candidate[name];
    if (!c || c.dims.length !== s.dims.length || c.dims.some((d, i) => d !== s.dims[i])) {
      agree = false;
      continue;
    }
    if (Array.isArray(s.data) || Array.isArray(c.data)) {
      const a = s.data as readonly unknown[];
      const b = c.data as readonly unknown[];
      agree &&= a.length === b.length && a.every((x, i) => x === b[i]);
      continue;
    }
    const a = s.data as ArrayLike<number | bigint>;
    const b = c.data as ArrayLike<number | bigint>;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(Number(a[i]!) - Number(b[i]!));
      sum += d;
      if (d > max || Number.isNaN(d)) max = Number.isNaN(d) ? Infinity : d;
      elements++;
    }
    if (max > tolerance) agree = false;
    const width = s.dims.length > 1 ? a.length / Math.max(1, s.dims[0]!) : 0;
    if (width >= 2 && !sameArgmax(a, b, width)) agree = false;
  }
  return { agree, meanAbs: elements === 0 ? 0 : sum / elements, maxAbs: max, elements };
}

function sameArgmax(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>, width: number): boolean {
  for (let row = 0; row < a.length; row += width) {
    if (argmax(a, row, width) !== argmax(b, row, width)) return false;
  }
  return true;
}

function argmax(x: ArrayLike<number | bigint>, offset: number, width: number): number {
  let best = 0;
  for (let i = 1; i < width; i++) if (x[offset + i]! > x[offset + best]!) best = i;
  return best;
}

/** Running totals of shadow comparisons, as the rollout state reports them. */
export class ShadowTally {
  copies = 0;
  shed = 0;
  compared = 0;
  agreed = 0;
  candidateErrors = 0;
  private distanceSum = 0;
  private distanceMax = 0;

  add(c: OutputComparison): void {
    this.compared++;
    if (c.agree) this.agreed++;
    this.distanceSum += c.meanAbs;
    this.distanceMax = Math.max(this.distanceMax, c.maxAbs);
  }

  summary(inFlight: number) {
    return {
      copies: this.copies,
      shed: this.shed,
      inFlight,
      compared: this.compared,
      candidateErrors: this.candidateErrors,
      agreementRate: round(this.compared === 0 ? 1 : this.agreed / this.compared),
      meanAbsDistance: round(this.compared === 0 ? 0 : this.distanceSum / this.compared, 6),
      maxAbsDistance: round(this.distanceMax, 6),
    };
  }
}
