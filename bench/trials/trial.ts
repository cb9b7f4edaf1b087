/**
 * One trial: a unit of measurement that runs in its own fresh process (STYLE rule 10), so one variant's
 * JIT state, heap, threads and caches never colour the next one's numbers. A spec is plain JSON, sent to the
 * child over IPC; the child answers with step results.
 */
import type { StabilityRule } from '../load/step.js';
import { type HarnessOptions, type LoadSpec, loadPlan, neededModels, openTarget, resolveModels, type TargetSpec } from '../harness.js';
import type { InputDataMode } from '../inputs.js';
import type { StepResult } from '../report/types.js';
import { runSweep } from '../sweep.js';
import type { BenchTarget } from '../targets/target.js';
import { NaiveInProcessTarget } from '../baselines/naive-inprocess.js';
import { measureRawOrt } from '../baselines/raw-ort.js';

export type TrialTarget = TargetSpec | { kind: 'naive-inprocess'; modelRepository: string };

export interface SweepTrial {
  kind: 'sweep';
  target: TrialTarget;
  models: HarnessOptions['models'];
  load: LoadSpec;
  step: { windowMs: number; warmupMs: number; maxDurationMs: number; stability?: StabilityRule; drainTimeoutMs: number };
  sloMs?: number;
  seed: number;
  inputData: InputDataMode;
  series: string;
  scenario?: string;
  maxOutstanding?: number;
}

export interface RawOrtTrial {
  kind: 'raw-ort';
  modelRepository: string;
  model: string;
  concurrency: number;
  durationMs: number;
  seed: number;
  series: string;
}

export type TrialSpec = SweepTrial | RawOrtTrial;

async function openTrialTarget(spec: SweepTrial): Promise<BenchTarget> {
  if (spec.target.kind === 'naive-inprocess') return new NaiveInProcessTarget(spec.target.modelRepository);
  return openTarget(spec.target, neededModels(spec.models));
}

/** Runs a trial in this process (the child calls this; tests may too). */
export async function executeTrial(spec: TrialSpec): Promise<StepResult[]> {
  if (spec.kind === 'raw-ort') return [await measureRawOrt(spec)];
  const plan = await loadPlan(spec.load);
  const target = await openTrialTarget(spec);
  try {
    const mix = await resolveModels(target, spec.models);
    return await runSweep({
      target,
      mix,
      plan,
      step: spec.step,
      sloMs: spec.sloMs,
      seed: spec.seed,
      inputData: spec.inputData,
      maxOutstanding: spec.maxOutstanding,
      series: spec.series,
      scenario: spec.scenario,
    });
  } finally {
    await target.close();
  }
}
