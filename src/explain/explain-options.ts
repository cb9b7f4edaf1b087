/**
 * `rt.explain(model, inputs, options)` options and result, and their validation (a bad option is an
 * InvalidArgumentError naming it).
 */
import { InvalidArgumentError } from '../errors.js';

export interface ExplainOptions {
  /** Model version; the serving version when omitted. */
  version?: number;
  /**
   * Background rows the absent features are drawn from (each the model's feature count long). When
   * omitted: the file named by the model's config parameter `explain_background` (a JSON array of rows,
   * relative to the model directory), else one all-zeros row.
   */
  background?: ArrayLike<number>[];
  /** Budget: perturbed model evaluations at most (permutations x (features - 1), plus one per background row used and one for the input). @default 256 */
  samples?: number;
  /** Budget: wall-clock limit; permutations not evaluated by then are left out (at least one must finish, else TIMEOUT). @default 1000 */
  deadlineMs?: number;
  /** The output explained, and the element of its row. @default the first output, element 0 */
  output?: string;
  outputIndex?: number;
  /** Rows per request sent to the runtime (each chunk is one batched request at low priority). @default 32, at most the model's max_batch_size */
  chunkRows?: number;
  /** Priority level of the perturbed evaluations. @default the model's lowest level (priority_levels), else its default */
  priority?: number;
  /** Seed of the permutation order (the same seed, input and background give the same attribution). @default 1 */
  seed?: number;
}

export interface Explanation {
  model: string;
  version: number;
  method: 'permutation_shap';
  output: string;
  outputIndex: number;
  /** f(input) for the explained output element. */
  prediction: number;
  /** Mean f(background row) over the permutations used: the attributions sum to prediction - baseline. */
  baseline: number;
  /** One per feature: its sampled Shapley value. */
  attributions: number[];
  /** |sum(attributions) - (prediction - baseline)| in float64 (permutation SHAP is additive by construction: rounding only). */
  additivityError: number;
  /** Per-feature standard error of the sampled values (over permutations), when at least two were used. */
  standardError?: number[];
  budget: {
    samples: number;
    evaluations: number;
    permutations: number;
    deadlineMs: number;
    elapsedMs: number;
    /** True when the deadline cut permutations. */
    truncated: boolean;
  };
  background: { rows: number; source: 'request' | 'config' | 'zeros' };
}

export interface ResolvedExplainOptions {
  samples: number;
  deadlineMs: number;
  output?: string;
  outputIndex: number;
  chunkRows?: number;
  priority?: number;
  seed: number;
  version?: number;
  background?: ArrayLike<number>[];
}

const KNOWN = new Set(['version', 'background', 'samples', 'deadlineMs', 'output', 'outputIndex', 'chunkRows', 'priority', 'seed']);

export function resolveExplainOptions(o: ExplainOptions | undefined): ResolvedExplainOptions {
  const opts = o ?? {};
  if (typeof opts !== 'object') throw new InvalidArgumentError('explain options must be an object');
  const unknown = Object.keys(opts).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`explain: unknown option(s) ${unknown.join(', ')}`);
  const int = (key: keyof ExplainOptions, min: number): number | undefined => {
    const v = opts[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`explain: ${key} must be an integer >= ${min}, got ${String(v)}`);
    return v;
  };
  if (opts.output !== undefined && (typeof opts.output !== 'string' || opts.output === '')) throw new InvalidArgumentError('explain: output must be an output name');
  if (opts.background !== undefined && (!Array.isArray(opts.background) || opts.background.length === 0)) {
    throw new InvalidArgumentError('explain: background must be a non-empty array of rows');
  }
  const r: ResolvedExplainOptions = {
    samples: int('samples', 1) ?? 256,
    deadlineMs: int('deadlineMs', 1) ?? 1000,
    outputIndex: int('outputIndex', 0) ?? 0,
    seed: int('seed', 0) ?? 1,
  };
  const version = int('version', 1);
  const chunkRows = int('chunkRows', 1);
  const priority = int('priority', 0);
  if (version !== undefined) r.version = version;
  if (chunkRows !== undefined) r.chunkRows = chunkRows;
  if (priority !== undefined) r.priority = priority;
  if (opts.output !== undefined) r.output = opts.output;
  if (opts.background !== undefined) r.background = opts.background;
  return r;
}
