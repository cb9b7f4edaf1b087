/**
 * Rollout specs: what `Runtime.rollout(model, spec)`, `POST /v2/models/{m}/rollout` and the config.pbtxt
 * `rollout_*` parameters accept, checked once here with an `InvalidArgumentError` naming the field; the
 * controller trusts what this returns (defaults filled in).
 */
import { InvalidArgumentError } from '../errors.js';

export type RolloutStrategy = 'canary' | 'ab' | 'shadow';
export const STRATEGIES: readonly RolloutStrategy[] = ['canary', 'ab', 'shadow'];

/** Canary guards: a step fails (and the rollout rolls back) the moment one of them fails. */
export interface CanaryGuards {
  /** The candidate's error rate may exceed the stable one's by at most this much. @default 0.02 */
  maxErrorRateIncrease: number;
  /** The candidate's p99 may be at most this multiple of the stable p99, plus `p99SlackMs`. @default 1.5 */
  maxP99Ratio: number;
  /** Absolute allowance on the p99 guard, so sub-millisecond noise never fails it. @default 5 */
  p99SlackMs: number;
  /** Largest drop of SLO attainment (share within `sloMs`) against the stable arm. @default 0.05 */
  maxSloAttainmentDrop: number;
  /** The latency objective of the SLO guard; the model's `slo_ms` parameter when omitted; no SLO guard without either. */
  sloMs?: number;
  /**
   * Largest Kolmogorov-Smirnov distance between the candidate's and the stable arm's predictions (each of the
   * first output's first 16 elements) that is also significant at `driftAlpha`. @default 0.2
   */
  maxPredictionDrift: number;
  /** Significance level of the prediction-drift test (Bonferroni-divided over the elements). @default 0.001 */
  driftAlpha: number;
  /**
   * Significance the latency and SLO guards also require that the candidate is slower as a whole: a one-sided
   * sign test over time blocks (the candidate's median latency above the stable one's in most ~250 ms blocks
   * of the window; at the 100% step 10% of the requests are mirrored to the stable version for this). @default 0.01
   */
  latencyAlpha: number;
  /** Requests each arm must answer in a step before its guards are read. @default 20 */
  minRequests: number;
}

export const DEFAULT_GUARDS: CanaryGuards = {
  maxErrorRateIncrease: 0.02,
  maxP99Ratio: 1.5,
  p99SlackMs: 5,
  maxSloAttainmentDrop: 0.05,
  maxPredictionDrift: 0.2,
  driftAlpha: 0.001,
  latencyAlpha: 0.01,
  minRequests: 20,
};

/** The A/B significance readout's metric: latency, error rate, SLO attainment, or the mean of a model output's first element. */
export type AbMetric = 'latency_ms' | 'error_rate' | 'slo_attainment' | `output:${string}`;

export interface ShadowOptions {
  /** Shadow copies in flight at most; a copy beyond it is shed (counted). @default 64 */
  maxInFlight: number;
  /** Queue timeout of a shadow copy (ms): a stale copy is dropped from the candidate's queue. @default 1000 */
  timeoutMs: number;
  /** Outputs agree when every element differs by at most this much (and the rows' argmax is the same). @default 0.001 */
  tolerance: number;
  /** Share of requests copied, percent. @default 100 */
  copyPercent: number;
  /**
   * Shed first: no copy is made while more than this many requests of the stable arm are unanswered (the
   * stable arm is backed up, so the host's time goes to it). @default 32
   */
  maxStableInFlight: number;
}

export const DEFAULT_SHADOW: ShadowOptions = { maxInFlight: 64, timeoutMs: 1000, tolerance: 0.001, copyPercent: 100, maxStableInFlight: 32 };

export interface RolloutSpec {
  strategy: RolloutStrategy;
  stable: number;
  candidate: number;
  /** canary: the candidate's share at each step, percent, ascending, ending at 100. @default [10, 50, 100] */
  steps: number[];
  /** canary: each step's analysis window. @default 30 */
  stepSeconds: number;
  /** ab: the candidate's share, percent. @default 50 */
  weight: number;
  /** ab: the metric of the significance readout. @default 'latency_ms' */
  metric: AbMetric;
  guards: CanaryGuards;
  shadow: ShadowOptions;
  /** Seed of the arm choice for requests without a routing key (tests, replays). */
  seed?: number;
}

/** What callers pass: versions as numbers or digit strings, everything but strategy/stable/candidate optional. */
export interface RolloutSpecInput {
  strategy: RolloutStrategy;
  stable: number | string;
  candidate: number | string;
  steps?: readonly number[];
  stepSeconds?: number;
  weight?: number;
  metric?: string;
  guards?: Partial<CanaryGuards>;
  shadow?: Partial<ShadowOptions>;
  seed?: number;
}

const SPEC_KEYS = new Set(['strategy', 'stable', 'candidate', 'steps', 'stepSeconds', 'weight', 'metric', 'guards', 'shadow', 'seed']);

const fail = (field: string, what: string): never => {
  throw new InvalidArgumentError(`rollout ${field}: ${what}`);
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function version(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail(field, `must be a version number (a positive integer), got ${JSON.stringify(v)}`);
  return n as number;
}

function number(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(field, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v as number;
}

function checkedObject<T extends object>(v: unknown, field: string, defaults: T, limits: Record<keyof T, [number, number]>): T {
  if (v === undefined) return { ...defaults };
  if (!isObject(v)) fail(field, 'must be an object');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(k in limits));
  if (unknown.length > 0) fail(field, `unknown field(s) ${unknown.join(', ')} (known: ${Object.keys(limits).join(', ')})`);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, [lo, hi]] of Object.entries(limits) as [string, [number, number]][]) {
    const d = (defaults as Record<string, unknown>)[k] as number | undefined;
    if (o[k] === undefined) continue;
    out[k] = number(o[k], `${field}.${k}`, lo, hi, d ?? 0);
  }
  return out as T;
}

const GUARD_LIMITS: Record<keyof CanaryGuards, [number, number]> = {
  maxErrorRateIncrease: [0, 1],
  maxP99Ratio: [1, 1000],
  p99SlackMs: [0, 3_600_000],
  maxSloAttainmentDrop: [0, 1],
  sloMs: [0.001, 3_600_000],
  maxPredictionDrift: [0, 1],
  driftAlpha: [1e-12, 1],
  latencyAlpha: [1e-12, 1],
  minRequests: [1, 1_000_000],
};

const SHADOW_LIMITS: Record<keyof ShadowOptions, [number, number]> = {
  maxInFlight: [1, 65_536],
  timeoutMs: [1, 3_600_000],
  tolerance: [0, Number.MAX_VALUE],
  copyPercent: [0, 100],
  maxStableInFlight: [0, 1_000_000],
};

/** Checks a spec and fills its defaults. Every problem is an InvalidArgumentError naming the field. */
export function parseRolloutSpec(input: unknown): RolloutSpec {
  if (!isObject(input)) fail('spec', 'must be an object');
  const o = input as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !SPEC_KEYS.has(k));
  if (unknown.length > 0) fail('spec', `unknown field(s) ${unknown.join(', ')} (known: ${[...SPEC_KEYS].join(', ')})`);
  const strategy = o['strategy'];
  if (!STRATEGIES.includes(strategy as RolloutStrategy)) fail('strategy', `must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  const stable = version(o['stable'], 'stable');
  const candidate = version(o['candidate'], 'candidate');
  if (stable === candidate) fail('candidate', `must differ from the stable version (${stable})`);
  const steps = o['steps'] === undefined ? [10, 50, 100] : o['steps'];
  if (!Array.isArray(steps) || steps.length === 0) fail('steps', 'must be a non-empty array of percentages');
  (steps as unknown[]).forEach((s, i) => {
    number(s, `steps[${i}]`, 0, 100, 0);
    if (i > 0 && (s as number) <= (steps as number[])[i - 1]!) fail('steps', `must ascend, got ${JSON.stringify(steps)}`);
  });
  if ((steps as number[]).at(-1) !== 100) fail('steps', `must end at 100 (full promotion), got ${JSON.stringify(steps)}`);
  const metric = o['metric'] === undefined ? 'latency_ms' : o['metric'];
  const metricOk = typeof metric === 'string' && (['latency_ms', 'error_rate', 'slo_attainment'].includes(metric) || /^output:.+/.test(metric));
  if (!metricOk) fail('metric', `must be latency_ms, error_rate, slo_attainment or output:NAME, got ${JSON.stringify(metric)}`);
  const seed = o['seed'];
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) fail('seed', 'must be an integer');
  return {
    strategy: strategy as RolloutStrategy,
    stable,
    candidate,
    steps: [...(steps as number[])],
    stepSeconds: number(o['stepSeconds'], 'stepSeconds', 0.01, 86_400, 30),
    weight: number(o['weight'], 'weight', 0, 100, 50),
    metric: metric as AbMetric,
    guards: checkedObject(o['guards'], 'guards', DEFAULT_GUARDS, GUARD_LIMITS),
    shadow: checkedObject(o['shadow'], 'shadow', DEFAULT_SHADOW, SHADOW_LIMITS),
    ...(seed !== undefined ? { seed: seed as number } : {}),
  };
}

/**
 * The declarative form: config.pbtxt `parameters` `rollout_strategy`, `rollout_stable`, `rollout_candidate`,
 * `rollout_steps` ("10,50,100"), `rollout_step_seconds`, `rollout_weight`, `rollout_metric`, and
 * `rollout_guards` / `rollout_shadow` (JSON objects). Undefined when `rollout_strategy` is absent.
 * `stable`/`candidate` may be left to the caller (`fallback`): a version entering as a canary.
 */
export function specFromParameters(
  params: Record<string, string>, model: string, fallback?: { stable: number; candidate: number },
): RolloutSpec | undefined {
  const strategy = params['rollout_strategy']?.trim();
  if (!strategy) return undefined;
  const json = (key: string): unknown => {
    const text = params[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new InvalidArgumentError(`model '${model}': parameter ${key} must be a JSON object, got ${JSON.stringify(text)}`);
    }
  };
  const num = (key: string): number | undefined => (params[key] === undefined ? undefined : Number(params[key]));
  const input: Record<string, unknown> = {
    strategy,
    stable: params['rollout_stable']?.trim() || fallback?.stable,
    candidate: params['rollout_candidate']?.trim() || fallback?.candidate,
    steps: params['rollout_steps']?.split(',').map((s) => Number(s.trim())),
    stepSeconds: num('rollout_step_seconds'),
    weight: num('rollout_weight'),
    metric: params['rollout_metric']?.trim(),
    guards: json('rollout_guards'),
    shadow: json('rollout_shadow'),
  };
  for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
  try {
    return parseRolloutSpec(input);
  } catch (err) {
    throw new InvalidArgumentError(`model '${model}': config.pbtxt rollout parameters: ${(err as Error).message}`);
  }
}

/** config.pbtxt `rollout_new_versions: "canary"`: a reload that brings a newer version starts a canary from the serving one. */
export function newVersionsEnterAsCanary(params: Record<string, string>): boolean {
  return params['rollout_new_versions']?.trim() === 'canary';
}
