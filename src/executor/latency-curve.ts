/**
 * The batch-latency curve l(b) of an emulated device (config parameter `device_latency_model`): parsing,
 * validation and evaluation. Pure functions, shared by the model version (main thread) and the executor
 * worker that holds each batch for l(b).
 */
import { InvalidArgumentError } from '../errors.js';

export interface CurvePoint {
  batchSize: number;
  ms: number;
}

/** Points with strictly ascending positive integer batch sizes and finite positive times. */
export type LatencyCurve = readonly CurvePoint[];

/**
 * Parses `device_latency_model`: `batch:ms` points separated by commas ("1:2.0,4:3.0,8:5.0"), one curve for
 * every instance or one per instance separated by `;`. Returns one curve per instance.
 * @throws InvalidArgumentError naming the model and the offending token.
 */
export function parseLatencyCurves(text: string, instances: number, model: string): LatencyCurve[] {
  const bad = (why: string) => new InvalidArgumentError(`model '${model}': parameter device_latency_model: ${why}`);
  const curves = text.split(';').map((curveText, c) => {
    const tokens = curveText.split(',').map((t) => t.trim());
    if (tokens.length === 1 && tokens[0] === '') throw bad(`curve ${c + 1} is empty (expected batch:ms points, e.g. "1:2.0,4:3.0")`);
    const points: CurvePoint[] = [];
    for (const token of tokens) {
      const m = /^([^:]*):([^:]*)$/.exec(token);
      if (!m) throw bad(`'${token}' is not a batch:ms point`);
      const [batchText, msText] = [m[1]!.trim(), m[2]!.trim()];
      const batchSize = /^\d+$/.test(batchText) ? Number(batchText) : NaN;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw bad(`'${token}': batch size must be a positive integer`);
      const ms = msText === '' ? NaN : Number(msText);
      if (!Number.isFinite(ms) || ms <= 0) throw bad(`'${token}': latency must be a finite number of milliseconds > 0`);
      const prev = points[points.length - 1];
      if (prev && batchSize <= prev.batchSize) throw bad(`'${token}': batch sizes must be strictly ascending`);
      points.push({ batchSize, ms });
    }
    return points;
  });
  if (curves.length === 1) return new Array<LatencyCurve>(instances).fill(curves[0]!);
  if (curves.length !== instances) {
    throw bad(`${curves.length} curves given; give 1 (for every instance) or ${instances} (one per instance, separated by ';')`);
  }
  return curves;
}

/**
 * l(b) in milliseconds: the first point's value at or below its batch size, piecewise-linear between
 * points, and above the last point the line through the last two, never below the last value.
 */
export function curveMs(curve: LatencyCurve, batchSize: number): number {
  const first = curve[0]!;
  if (batchSize <= first.batchSize || curve.length === 1) return first.ms;
  for (let i = 1; i < curve.length; i++) {
    const hi = curve[i]!;
    if (batchSize === hi.batchSize) return hi.ms;
    if (batchSize < hi.batchSize) return lerp(curve[i - 1]!, hi, batchSize);
  }
  const last = curve[curve.length - 1]!;
  return Math.max(last.ms, lerp(curve[curve.length - 2]!, last, batchSize));
}

/** The curve with every latency multiplied by `factor`. */
export function scaleCurve(curve: LatencyCurve, factor: number): LatencyCurve {
  return curve.map((p) => ({ batchSize: p.batchSize, ms: p.ms * factor }));
}

function lerp(a: CurvePoint, b: CurvePoint, x: number): number {
  return a.ms + ((b.ms - a.ms) * (x - a.batchSize)) / (b.batchSize - a.batchSize);
}
