/**
 * Drift monitoring options: config.pbtxt serval `parameters` (`drift_*`), checked once with an
 * InvalidArgumentError naming the parameter. Monitoring is on when `drift_monitor` is "true" or any
 * other `drift_*` parameter is set.
 */
import { InvalidArgumentError } from '../errors.js';

export interface DriftOptions {
  /** Sampled rows that make the reference window (the first ones after load). @default 1000 */
  referenceRows: number;
  /** Sampled rows per comparison window (tumbling). @default 500 */
  windowRows: number;
  /** Share of requests sampled. @default 1 */
  sampleRate: number;
  /** Quantile bins per feature (PSI and the binned KS test). @default 10 */
  bins: number;
  /** A feature drifts when its PSI reaches this (0.1: the usual "moderate shift")... @default 0.1 */
  psiThreshold: number;
  /** ...and its KS test rejects at this family-wise level (Bonferroni over every monitored feature). @default 0.01 */
  alpha: number;
  /** Features (elements of a row) monitored per tensor, the first ones. @default 64 */
  maxFeatures: number;
}

export const DEFAULT_DRIFT: DriftOptions = {
  referenceRows: 1000, windowRows: 500, sampleRate: 1, bins: 10, psiThreshold: 0.1, alpha: 0.01, maxFeatures: 64,
};

const PARAMS: Record<string, [keyof DriftOptions, number, number, boolean]> = {
  drift_reference_requests: ['referenceRows', 10, 1_000_000, true],
  drift_window_requests: ['windowRows', 10, 1_000_000, true],
  drift_sample_rate: ['sampleRate', 1e-6, 1, false],
  drift_bins: ['bins', 2, 100, true],
  drift_psi_threshold: ['psiThreshold', 0, 100, false],
  drift_alpha: ['alpha', 1e-12, 1, false],
  drift_max_features: ['maxFeatures', 1, 4096, true],
};

/** The model's drift options, or undefined when it is not monitored. */
export function driftOptionsFromParameters(params: Record<string, string>, model: string): DriftOptions | undefined {
  const on = params['drift_monitor']?.trim();
  if (on !== undefined && on !== 'true' && on !== 'false') {
    throw new InvalidArgumentError(`model '${model}': parameter drift_monitor must be "true" or "false", got ${JSON.stringify(on)}`);
  }
  const given = Object.keys(PARAMS).filter((k) => params[k] !== undefined);
  if (on === 'false' || (on === undefined && given.length === 0)) return undefined;
  const options = { ...DEFAULT_DRIFT };
  for (const key of given) {
    const [field, lo, hi, integer] = PARAMS[key]!;
    const text = params[key]!.trim();
    const v = Number(text);
    if (text === '' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(`model '${model}': parameter ${key} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(text)}`);
    }
    options[field] = v;
  }
  return options;
}
