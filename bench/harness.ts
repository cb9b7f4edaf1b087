/**
 * `serval bench` against one target: validated options in, a sweep run, results out (table on stdout, JSON,
 * CSV, chart). The CLI (cli.ts) only parses flags into `HarnessOptions`.
 */
import { basename } from 'node:path';
import type { AdmissionName, PolicyName } from '../src/api-types.js';
import { type ArrivalSpec } from './arrivals.js';
import { BenchError, invalidArgument } from './errors.js';
import type { InputDataMode } from './inputs.js';
import { type MixSpec, type ModelMix, resolveMix, singleModel } from './mix.js';
import { createProgress } from './progress.js';
import { latencyCdfSpec, latencyThroughputSpec, sideBySide, writeChart } from './report/chart.js';
import { writeCsv } from './report/csv.js';
import { buildReport, writeReport } from './report/json.js';
import { renderSteps } from './report/table.js';
import type { BenchReport } from './report/types.js';
import { type LoadPlan, runSweep } from './sweep.js';
import { EmbeddedTarget } from './targets/embedded.js';
import { GrpcTarget } from './targets/grpc.js';
import { HttpTarget, type WireProtocol } from './targets/http.js';
import type { BenchTarget } from './targets/target.js';
import { loadTrace, type TimeUnit } from './trace.js';

export type TargetSpec =
  | { kind: 'http'; url: string; protocol: WireProtocol; connections?: number; requestTimeoutMs: number }
  | { kind: 'grpc'; url: string; connections?: number; requestTimeoutMs: number }
  | { kind: 'embedded'; modelRepository: string; policy?: PolicyName; timeoutMs?: number; admission?: AdmissionName; sloMs?: number };

export type LoadSpec =
  | { mode: 'concurrency'; values: number[] }
  | { mode: 'rate'; values: number[]; arrivals: ArrivalSpec }
  | { mode: 'trace'; file: string; column: string; unit: TimeUnit; rateScale: number; loop?: boolean };

export interface HarnessOptions {
  target: TargetSpec;
  models: { kind: 'single'; model: string } | { kind: 'mix'; spec: MixSpec };
  load: LoadSpec;
  durationMs: number;
  windowMs: number;
  warmupMs: number;
  stabilityPercentage: number;
  drainTimeoutMs: number;
  sloMs?: number;
  seed: number;
  inputData: InputDataMode;
  shapes: Record<string, number[]>;
  maxOutstanding: number;
  series?: string;
  json?: string;
  csv?: string;
  chart?: string;
  markdown: boolean;
  quiet: boolean;
  command: string;
}

export interface HarnessIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

export async function openTarget(spec: TargetSpec, models: string[] | 'all'): Promise<BenchTarget> {
  if (spec.kind === 'grpc') {
    return new GrpcTarget({ url: spec.url, connections: spec.connections, requestTimeoutMs: spec.requestTimeoutMs });
  }
  if (spec.kind === 'http') {
    return new HttpTarget({ url: spec.url, protocol: spec.protocol, connections: spec.connections, requestTimeoutMs: spec.requestTimeoutMs });
  }
  return EmbeddedTarget.open({
    modelRepository: spec.modelRepository,
    policy: spec.policy,
    loadModels: models,
    timeoutMs: spec.timeoutMs,
    ...(spec.admission ? { admission: spec.admission } : {}),
    ...(spec.sloMs ? { sloMs: spec.sloMs } : {}),
  });
}

/** The models a run needs loaded: the named ones, or all of them for a zipf mix. */
export function neededModels(models: HarnessOptions['models']): string[] | 'all' {
  if (models.kind === 'single') return [models.model];
  return models.spec.kind === 'zipf' ? 'all' : models.spec.entries.map((e) => e.model);
}

/** The mix to run (unknown models surface when the sweep fetches each model's metadata, before any load). */
export async function resolveModels(target: BenchTarget, models: HarnessOptions['models']): Promise<ModelMix> {
  if (models.kind === 'single') return singleModel(models.model);
  let available: string[];
  try {
    available = await target.listModels();
  } catch (err) {
    // A server without a repository index can still serve an explicit mix: metadata() checks each model.
    if (models.spec.kind === 'zipf' || !(err instanceof BenchError) || err.code !== 'TARGET_ERROR') throw err;
    available = models.spec.entries.map((e) => e.model);
  }
  return resolveMix(models.spec, available);
}

export async function loadPlan(load: LoadSpec): Promise<LoadPlan> {
  if (load.mode !== 'trace') return load;
  const trace = await loadTrace(load.file, { column: load.column, unit: load.unit });
  return { mode: 'trace', trace, rateScale: load.rateScale, source: basename(load.file), loop: load.loop };
}

export async function runHarness(options: HarnessOptions, io: HarnessIo): Promise<BenchReport> {
  const plan = await loadPlan(options.load);
  if (options.warmupMs >= options.durationMs) {
    throw invalidArgument(`--duration (${options.durationMs / 1000} s) must be longer than the warm-up (${options.warmupMs} ms)`);
  }
  const target = await openTarget(options.target, neededModels(options.models));
  const progress = createProgress('serval bench', { quiet: options.quiet, stream: io.stderr });
  let report: BenchReport;
  try {
    const mix = await resolveModels(target, options.models);
    const steps = await runSweep({
      target,
      mix,
      plan,
      step: {
        windowMs: options.windowMs,
        warmupMs: options.warmupMs,
        maxDurationMs: options.durationMs,
        stability: { windows: 3, percentage: options.stabilityPercentage },
        drainTimeoutMs: options.drainTimeoutMs,
      },
      sloMs: options.sloMs,
      seed: options.seed,
      inputData: options.inputData,
      shapes: options.shapes,
      maxOutstanding: options.maxOutstanding,
      series: options.series ?? target.description,
      onStep: (i, total, label, result) => (result ? progress.done(i, total, label, result) : progress.start(i, total, label)),
    });
    const { json, csv, chart, markdown, quiet, command, ...settings } = options;
    report = buildReport({ title: target.description, command, settings: { ...settings, models: mix }, steps });
  } finally {
    progress.stop();
    await target.close();
  }
  io.stdout.write(`${renderSteps(report.steps, options.markdown)}\n`);
  if (options.json) await writeReport(options.json, report);
  if (options.csv) await writeCsv(options.csv, report.steps);
  if (options.chart) await writeChart(options.chart, sideBySide([latencyThroughputSpec(report.steps), latencyCdfSpec(report.steps)]));
  return report;
}
