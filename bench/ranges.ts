/**
 * Sweep ranges, perf_analyzer style: `START`, `START:END` (step 1) or `START:END:STEP`, where STEP is either
 * added (`1:8:1`) or, written `xK`, multiplied (`1:256:x2` → 1, 2, 4, ..., 256). END is included when a step
 * lands on it.
 */
import { invalidArgument } from './errors.js';

const MAX_STEPS = 1000;

export interface RangeOptions {
  /** Flag name for messages, e.g. `--concurrency-range`. */
  flag: string;
  integer: boolean;
}

export function parseRange(text: string, options: RangeOptions): number[] {
  const parts = text.split(':');
  const bad = (why: string) =>
    invalidArgument(`${options.flag} '${text}': ${why} (expected START, START:END or START:END:STEP, STEP may be xK to multiply)`);
  if (parts.length > 3 || parts.some((p) => p.trim() === '')) throw bad('malformed range');
  const num = (p: string, what: string): number => {
    const v = Number(p);
    if (!Number.isFinite(v) || v <= 0) throw bad(`${what} must be a positive number`);
    if (options.integer && !Number.isInteger(v)) throw bad(`${what} must be an integer`);
    return v;
  };
  const start = num(parts[0], 'START');
  if (parts.length === 1) return [start];
  const end = num(parts[1], 'END');
  if (end < start) throw bad('END is smaller than START');
  const stepText = parts[2] ?? '1';
  const multiply = stepText.startsWith('x');
  const step = num(multiply ? stepText.slice(1) : stepText, 'STEP');
  if (multiply && step <= 1) throw bad('a multiplying STEP must be greater than 1');
  const values: number[] = [];
  // A relative epsilon keeps 0.1-steps from losing END to rounding.
  for (let v = start; v <= end * (1 + 1e-9); v = multiply ? v * step : v + step) {
    values.push(options.integer ? Math.round(v) : Number(v.toPrecision(12)));
    if (values.length > MAX_STEPS) throw bad(`more than ${MAX_STEPS} steps`);
  }
  return values;
}

export function parseConcurrencyRange(text: string): number[] {
  return parseRange(text, { flag: '--concurrency-range', integer: true });
}

export function parseRateRange(text: string): number[] {
  return parseRange(text, { flag: '--request-rate-range', integer: false });
}

/** `1,64,512` → [1, 64, 512] (positive integers). */
export function parseConcurrencyList(text: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw invalidArgument(`--concurrency must be a comma-separated list of positive integers, got '${text}'`);
  }
  return values;
}
