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
  /**
   * `drift_reference_file`: a JSON file (path relative to the model's directory) `{ "<tensor>": [[row], ...] }`;
   * the tensors it names take their reference from it instead of from the first requests.
   */
  referenceFile?: string;
}

export const DEFAULT_DRIFT: DriftOptions = {
  referenceRows: 1000, windowRows: 500, sampleRate: 1, bins: 10, psiThreshold: 0.1, alpha: 0.01, maxFeatures: 64,
};

const PARAMS: Record<string, [Exclude<keyof DriftOptions, 'referenceFile'>, number, number, boolean]> = {
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
  const file = params['drift_reference_file']?.trim();
  if (on === 'false' || (on === undefined && given.length === 0 && !file)) return undefined;
  const options: DriftOptions = { ...DEFAULT_DRIFT, ...(file ? { referenceFile: file } : {}) };
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

/** A reference file's rows by tensor name. */
export type DriftReference = Record<string, number[][]>;

/**
 * Reads `drift_reference_file` (relative to `modelDir`, which it may not leave): a JSON object mapping tensor
 * names to arrays of rows of numbers. Any problem is an InvalidArgumentError naming the file.
 */
export async function readDriftReference(file: string, modelDir: string, model: string): Promise<DriftReference> {
  const { readFile } = await import('node:fs/promises');
  const { resolve, relative, isAbsolute } = await import('node:path');
  const full = resolve(modelDir, file);
  const rel = relative(modelDir, full);
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`model '${model}': drift_reference_file ${JSON.stringify(file)}: ${why}`);
  };
  if (rel.startsWith('..') || isAbsolute(rel)) bad('must be inside the model directory');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(full, 'utf8'));
  } catch (err) {
    bad((err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('must hold a JSON object of tensor name -> rows');
  for (const [name, rows] of Object.entries(parsed as Record<string, unknown>)) {
    const ok = Array.isArray(rows) && rows.length >= 10 && rows.every((r) => Array.isArray(r) && r.length === (rows[0] as unknown[]).length && r.every((v) => typeof v === 'number'));
    if (!ok) bad(`tensor '${name}' must have at least 10 rows, each an array of numbers of one length`);
  }
  return parsed as DriftReference;
}
