/**
 * A sweep: the same target, mix and inputs, one step per concurrency or rate (or one trace replay), each step
 * measured by `runStep`. Arrival times and model choices come from streams seeded by `seed` alone, so every
 * run with the same seed (say, one per placement policy) sees the same sequence.
 */
import { type ArrivalSpec, arrivalSource, formatArrivalSpec, traceSource } from './arrivals.js';
import { buildRequests, type InputDataMode } from './inputs.js';
import { ClosedLoopDriver } from './load/closed-loop.js';
import type { LoadDriver } from './load/driver.js';
import { OpenLoopDriver } from './load/open-loop.js';
import { runStep, type StepOptions } from './load/step.js';
import { type ModelMix, modelChooser } from './mix.js';
import type { ServerSplit, StepResult } from './report/types.js';
import { Rng } from './rng.js';
import { summarizeWindows } from './stats/summary.js';
import type { Trace } from './trace.js';
import { type BenchTarget, classifyFailure, type ServerCounters } from './targets/target.js';

export type LoadPlan =
  | { mode: 'concurrency'; values: number[] }
  | { mode: 'rate'; values: number[]; arrivals: ArrivalSpec }
  | { mode: 'trace'; trace: Trace; rateScale: number; source: string; loop?: boolean };

export interface SweepConfig {
  target: BenchTarget;
  mix: ModelMix;
  plan: LoadPlan;
  step: Omit<StepOptions, 'models' | 'sloMs'>;
  sloMs?: number;
  seed: number;
  inputData: InputDataMode;
  shapes?: Record<string, number[]>;
  /** Open loop: most requests in flight. */
  maxOutstanding?: number;
  series: string;
  scenario?: string;
  /** Called before each step (result undefined) and after it. */
  onStep?: (index: number, total: number, label: string, result?: StepResult) => void;
}

export function stepValues(plan: LoadPlan): number[] {
  return plan.mode === 'trace' ? [plan.rateScale] : plan.values;
}

export function stepLabel(mode: StepResult['mode'], value: number): string {
  if (mode === 'concurrency') return `concurrency ${value}`;
  if (mode === 'rate') return `${value} req/s`;
  return `trace x${Number(value.toPrecision(4))}`;
}

export async function runSweep(config: SweepConfig): Promise<StepResult[]> {
  const { target, mix } = config;
  const senders: Array<() => Promise<void>> = [];
  for (const model of mix.models) {
    const meta = await target.metadata(model);
    const requests = await buildRequests(meta, config.inputData, new Rng(config.seed).fork(`inputs:${model}`), { shapes: config.shapes });
    senders.push(await target.prepare(model, requests));
  }
  const send = (i: number) => senders[i]();
  const values = stepValues(config.plan);
  const results: StepResult[] = [];
  for (let i = 0; i < values.length; i++) {
    const label = stepLabel(config.plan.mode, values[i]);
    config.onStep?.(i, values.length, label);
    const result = await runOneStep(config, values[i], send);
    results.push(result);
    config.onStep?.(i, values.length, label, result);
  }
  return results;
}

async function runOneStep(config: SweepConfig, value: number, send: (i: number) => Promise<void>): Promise<StepResult> {
  const { plan, mix } = config;
  const seeded = new Rng(config.seed);
  const choose = modelChooser(mix, seeded.fork('models'));
  let driver: LoadDriver;
  let step: StepOptions = { ...config.step, models: mix.models.length, sloMs: config.sloMs };
  let process: string | undefined;
  if (plan.mode === 'concurrency') {
    driver = new ClosedLoopDriver(value, choose, send, classifyFailure);
  } else if (plan.mode === 'rate') {
    process = formatArrivalSpec(plan.arrivals);
    const source = arrivalSource(plan.arrivals, value, seeded.fork('arrivals'));
    driver = new OpenLoopDriver(source, choose, send, classifyFailure, { maxOutstanding: config.maxOutstanding });
  } else {
    process = plan.source;
    driver = new OpenLoopDriver(traceSource(plan.trace.times, plan.rateScale, plan.loop), choose, send, classifyFailure, { maxOutstanding: config.maxOutstanding });
    // A trace is not stationary: replay it to its end (or to the duration limit), no stability stop.
    const traceMs = plan.loop ? Infinity : (plan.trace.spanSeconds / plan.rateScale) * 1000 + step.windowMs;
    step = { ...step, stability: undefined, maxDurationMs: Math.min(step.maxDurationMs, traceMs) };
  }
  const before = await safeCounters(config.target, mix.models);
  const outcome = await runStep(driver, step);
  const after = await safeCounters(config.target, mix.models);
  const metrics = summarizeWindows(outcome.measured, outcome.stopMs, mix.models, config.sloMs);
  const result: StepResult = {
    series: config.series,
    ...(config.scenario ? { scenario: config.scenario } : {}),
    mode: plan.mode,
    value,
    ...(process ? { process } : {}),
    models: mix.models,
    stable: outcome.stable,
    ...metrics,
  };
  if (plan.mode !== 'concurrency' && outcome.recorder.lag.count > 0) {
    const lag = outcome.recorder.lag;
    result.lagMs = { p50: lag.percentileMs(50), p99: lag.percentileMs(99), max: lag.maxMs };
  }
  const split = serverSplit(before, after);
  if (split) result.server = split;
  if (outcome.recorder.failureExamples.size > 0) result.failureExamples = Object.fromEntries(outcome.recorder.failureExamples);
  return result;
}

async function safeCounters(target: BenchTarget, models: string[]): Promise<ServerCounters | undefined> {
  try {
    return await target.serverCounters(models);
  } catch {
    return undefined;
  }
}

/** Mean queue and compute time per request over the step (server-side counters, differenced). */
export function serverSplit(before: ServerCounters | undefined, after: ServerCounters | undefined): ServerSplit | undefined {
  if (!before || !after) return undefined;
  const queued = after.queueCount - before.queueCount;
  const computed = after.computeCount - before.computeCount;
  if (queued <= 0 && computed <= 0) return undefined;
  const split: ServerSplit = {
    queueMs: queued > 0 ? ((after.queueSeconds - before.queueSeconds) / queued) * 1000 : 0,
    computeMs: computed > 0 ? ((after.computeSeconds - before.computeSeconds) / computed) * 1000 : 0,
    count: Math.max(queued, computed),
  };
  if (after.placements) {
    split.placements = Object.fromEntries(
      Object.entries(after.placements).map(([m, counts]) => [m, counts.map((n, i) => n - (before.placements?.[m]?.[i] ?? 0))]),
    );
  }
  return split;
}
