/**
 * What the named benchmarks (`embedded`, `http`, `scenarios`) share: timing presets (full and `--quick`),
 * running a list of trials each in a fresh child process with progress, and writing the report (terminal
 * table, markdown table for the README, JSON and chart under bench/results/).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { PolicyName } from '../../src/api-types.js';
import type { CliIo } from '../cli.js';
import { BenchError } from '../errors.js';
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { parsePolicy } from '../policies.js';
import { parseConcurrencyList } from '../ranges.js';
import { createProgress } from '../progress.js';
import { writeChart } from '../report/chart.js';
import { writeCsv } from '../report/csv.js';
import { buildReport, writeReport } from '../report/json.js';
import { renderSteps } from '../report/table.js';
import type { StepResult } from '../report/types.js';
import { mergeRepeats } from '../stats/repeats.js';
import { runTrialInChild } from '../trials/child.js';
import type { SweepTrial, TrialSpec, TrialTarget } from '../trials/trial.js';

/** How the named benchmarks build their command (cli.ts adds --json, --csv, --chart, --markdown, --quiet). */
export type CommandFactory = (name: string) => Command;

export interface Timing {
  windowMs: number;
  warmupMs: number;
  /** Longest a closed-loop step may run before it is reported unstable. */
  maxDurationMs: number;
  drainTimeoutMs: number;
}

export function timing(quick: boolean, durationS?: string): Timing {
  const t = quick
    ? { windowMs: 1000, warmupMs: 1000, maxDurationMs: 6000, drainTimeoutMs: 5000 }
    : { windowMs: 2000, warmupMs: 2000, maxDurationMs: 20_000, drainTimeoutMs: 10_000 };
  if (durationS !== undefined) t.maxDurationMs = parsePositiveNumber(durationS, '--duration') * 1000;
  return t;
}

/** Options every named benchmark takes. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--model-repository <dir>', 'model repository', 'models')
    .option('--model <name>', 'model', 'fraud_mlp')
    .option('--duration <secs>', 'longest a step may run (default 20, --quick 6)')
    .option('--seed <n>', 'seed for inputs and arrivals', '1')
    .option('--repeat <n>', 'run every trial n times, interleaved; report the median run and the ranges', '1')
    .option('--quick', 'short windows and steps (minutes; less stable numbers)');
}

export interface CommonOptions {
  quick: boolean;
  modelRepository: string;
  model: string;
  seed: number;
  /** Runs per trial (--repeat). */
  repeat: number;
  timing: Timing;
  /** Closed-loop step settings from `timing`, with the stability rule (3 windows within 10%). */
  closedLoopStep: { windowMs: number; warmupMs: number; maxDurationMs: number; stability: { windows: number; percentage: number }; drainTimeoutMs: number };
  output: OutputOptions;
}

export function readCommonOptions(o: Record<string, unknown>): CommonOptions {
  const quick = o['quick'] === true;
  const t = timing(quick, o['duration'] as string | undefined);
  return {
    quick,
    modelRepository: String(o['modelRepository']),
    model: String(o['model']),
    seed: parseNonNegativeInt(String(o['seed']), '--seed'),
    repeat: parsePositiveInt(String(o['repeat']), '--repeat'),
    timing: t,
    closedLoopStep: { windowMs: t.windowMs, warmupMs: t.warmupMs, maxDurationMs: t.maxDurationMs, stability: { windows: 3, percentage: 10 }, drainTimeoutMs: t.drainTimeoutMs },
    output: o as OutputOptions,
  };
}

/** `--concurrency LIST` and `--policy NAME` for the closed-loop benchmarks (embedded, http). */
export function addClosedLoopOptions(cmd: Command, defaultConcurrency: string): Command {
  return cmd
    .option('--concurrency <list>', 'comma-separated concurrencies', defaultConcurrency)
    .option('--policy <name>', 'serval placement policy', 'least_outstanding');
}

export function readClosedLoopOptions(o: Record<string, unknown>): { concurrencies: number[]; policy: PolicyName } {
  return { concurrencies: parseConcurrencyList(String(o['concurrency'])), policy: parsePolicy(String(o['policy'])) };
}

/** One closed-loop step at `concurrency` against `target`, timed by the common options. */
export function closedLoopTrial(c0: CommonOptions, target: TrialTarget, series: string, concurrency: number): SweepTrial {
  return {
    kind: 'sweep',
    target,
    models: { kind: 'single', model: c0.model },
    load: { mode: 'concurrency', values: [concurrency] },
    step: c0.closedLoopStep,
    seed: c0.seed,
    inputData: { kind: 'random' },
    series,
  };
}

/** How long a closed-loop trial's child may live: the step, its drain, and start-up. */
export function closedLoopTimeoutMs(c0: CommonOptions): number {
  return c0.timing.maxDurationMs + c0.timing.drainTimeoutMs + 120_000;
}

export interface Trial {
  label: string;
  /** The trial; or a function that starts what it needs (a server) and returns the spec and how to stop it. */
  spec: TrialSpec | (() => Promise<{ spec: TrialSpec; stop(): Promise<void> }>);
  /** Longest the child may live. */
  timeoutMs: number;
}

/**
 * Runs trials one after another, each in a fresh process; with `repeat` > 1 the whole list runs that many
 * times (ABAB, not AABB) and each step is reported once (stats/repeats.ts). A trial that fails is noted and
 * skipped (the others still make a table); a bad flag or an unknown model stops the run, since every trial
 * would fail alike.
 */
export async function runTrials(
  title: string,
  trials: Trial[],
  io: CliIo,
  quiet: boolean,
  repeat = 1,
): Promise<{ steps: StepResult[]; failures: string[] }> {
  const progress = createProgress(title, { quiet, stream: io.stderr });
  const steps: StepResult[] = [];
  const failures: string[] = [];
  const runs = Array.from({ length: repeat }, () => trials).flat();
  try {
    for (let i = 0; i < runs.length; i++) {
      const t = runs[i];
      progress.start(i, runs.length, t.label);
      try {
        const started = typeof t.spec === 'function' ? await t.spec() : { spec: t.spec, stop: async () => {} };
        let result: StepResult[];
        try {
          result = await runTrialInChild(started.spec, { timeoutMs: t.timeoutMs });
        } finally {
          await started.stop();
        }
        steps.push(...result);
        progress.done(i, runs.length, t.label, result[result.length - 1]);
      } catch (err) {
        if (err instanceof BenchError && err.code !== 'TRIAL_FAILED' && err.code !== 'TARGET_UNAVAILABLE') throw err;
        failures.push(`${t.label}: ${(err as Error).message}`);
        progress.done(i, runs.length, `${t.label}: FAILED`);
      }
    }
  } finally {
    progress.stop();
  }
  return { steps: repeat > 1 ? mergeRepeats(steps) : steps, failures };
}

export interface OutputOptions {
  json?: string;
  csv?: string;
  chart?: string;
  markdown?: boolean;
  quiet?: boolean;
}

/** Default output files: bench/results/NAME.{json,svg}, or bench/results/tmp/ for --quick runs (not committed). */
export function defaultOutputs(name: string, quick: boolean, opts: OutputOptions): { json: string; chart: string } {
  const dir = quick ? join('bench', 'results', 'tmp') : join('bench', 'results');
  return { json: opts.json ?? join(dir, `${name}.json`), chart: opts.chart ?? join(dir, `${name}.svg`) };
}

export async function finish(fields: {
  name: string;
  title: string;
  quick: boolean;
  argv: string[];
  settings: Record<string, unknown>;
  steps: StepResult[];
  notes: string[];
  /** Extra tables (ratios) printed after the main one: [heading, terminal text, markdown text]. */
  extra?: Array<[string, string, string]>;
  chart: Record<string, unknown>;
  opts: OutputOptions;
  io: CliIo;
}): Promise<number> {
  const { io, opts, steps } = fields;
  if (steps.length === 0) {
    throw new BenchError('TRIAL_FAILED', `every trial failed:\n  ${fields.notes.join('\n  ')}`);
  }
  const out = defaultOutputs(fields.name, fields.quick, opts);
  const report = buildReport({ title: fields.title, command: ['npm run bench --', fields.name, ...fields.argv].join(' '), settings: fields.settings, steps, notes: fields.notes });
  const lines = [`${fields.title}${fields.quick ? ' (--quick)' : ''}`, '', renderSteps(steps)];
  for (const [heading, text] of fields.extra ?? []) lines.push('', heading, text);
  if (fields.notes.length) lines.push('', ...fields.notes.map((n) => `  ${n}`));
  lines.push('', 'Markdown (for the README):', '', renderSteps(steps, true));
  for (const [heading, , md] of fields.extra ?? []) lines.push('', `**${heading}**`, '', md);
  io.stdout.write(`${lines.join('\n')}\n`);
  await writeReport(out.json, report);
  await writeChart(out.chart, fields.chart);
  if (opts.csv) await writeCsv(opts.csv, steps);
  io.stdout.write(`\nwrote ${out.json}, ${out.chart}${opts.csv ? `, ${opts.csv}` : ''}\n`);
  return 0;
}
