/**
 * `serval bench ...` and `npm run bench -- ...`: flag parsing and error reporting. `runBenchCli(argv)` takes the
 * arguments after `bench` and resolves to the exit code: 0 on success, 2 for bad usage (a malformed flag, a
 * bad range, a malformed trace), 1 when the target fails (unknown model, unreachable URL). Errors are one
 * line on stderr, never a stack (set SERVAL_DEBUG=1 for one).
 *
 * Sub-commands: `compare A.json B.json`, `dispatch` (bench/dispatch/), `pipeline` (bench/pipeline/), `jsthread`, `httpcpu`,
 * `idle` (bench/dispatch/), and the named benchmarks `embedded`, `http`, `scenarios`, `rollout`, `audit`, `explain`
 * (bench/named/). Anything else is the harness against one target.
 */
import { Command, CommanderError } from 'commander';
import { parseArrivalSpec } from './arrivals.js';
import { BenchError, exitCodeFor, invalidArgument } from './errors.js';
import { type HarnessIo, type HarnessOptions, type LoadSpec, runHarness, type TargetSpec } from './harness.js';
import { parseInputDataMode, parseShapeOverride } from './inputs.js';
import { parseMixSpec } from './mix.js';
import { parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from './parse.js';
import { parseConcurrencyRange, parseRateRange } from './ranges.js';
import { pairSteps, renderComparison } from './report/compare.js';
import { readReport } from './report/json.js';
import { parseBenchProtocol } from './targets/grpc.js';
import { parseTimeUnit } from './trace.js';
import { ADMISSIONS, parseAdmission, parsePolicy, POLICIES } from './policies.js';

export interface CliIo extends HarnessIo {}

const NAMED = ['embedded', 'http', 'scenarios', 'rollout', 'audit', 'explain', 'autoscale', 'cluster'] as const;
type NamedBenchmark = (typeof NAMED)[number];

export async function runBenchCli(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === 'compare') return await compareCommand(rest, io);
    if (first === 'dispatch') return await (await import('./dispatch/dispatch-overhead.js')).run();
    if (first === 'jsthread') return await (await import('./dispatch/js-thread-cost.js')).run(rest);
    if (first === 'idle') return await (await import('./dispatch/idle-cpu.js')).run(rest);
    if (first === 'httpcpu') return await (await import('./dispatch/http-thread-cost.js')).run(rest);
    if (first === 'pipeline') return await (await import('./pipeline/pipeline-bench.js')).run(rest);
    if ((NAMED as readonly string[]).includes(first ?? '')) return await namedCommand(first as NamedBenchmark, rest, io);
    return await harnessCommand(argv, io);
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed it already
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (process.env['SERVAL_DEBUG'] && err instanceof Error) io.stderr.write(`${err.stack}\n`);
  if (err instanceof BenchError || (err instanceof Error && err.name.endsWith('Error') && typeof code === 'string' && /^[A-Z_]+$/.test(code))) {
    io.stderr.write(`serval bench: error: ${message} [${String(code)}]\n`);
    return exitCodeFor(String(code));
  }
  io.stderr.write(`serval bench: error: ${message}\n`);
  return 1;
}

function program(name: string, io: CliIo): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError(`(run ${name} --help for usage)`);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Flags every target-facing command shares (the harness and the named benchmarks). */
export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json <file>', 'write the full results as JSON')
    .option('--csv <file>', 'write one CSV row per step')
    .option('--chart <file>', 'write a chart (.svg or .png)')
    .option('--markdown', 'print the table as markdown')
    .option('--quiet', 'no progress output');
}

async function harnessCommand(argv: string[], io: CliIo): Promise<number> {
  const cmd = addOutputOptions(
    program('serval bench', io)
      .description('drive load at an Open Inference Protocol v2 server or at the embedded runtime, and report latency and throughput')
      .usage('--url URL | --embedded --model-repository DIR  --model NAME [load] [options]\n       serval bench compare A.json B.json\n       serval bench embedded|http|scenarios|audit|explain [options]')
      .option('--url <url>', 'an Open Inference Protocol v2 server: http://host:port, or host:port (grpc://host:port) with --protocol grpc')
      .option('--embedded', "serval's Runtime in this process (no HTTP)")
      .option('--model-repository <dir>', 'model repository for --embedded')
      .option('--policy <name>', `placement policy for --embedded: ${POLICIES.join(', ')}, learned:FILE`)
      .option('--admission <name>', `admission policy for --embedded: ${ADMISSIONS.join(', ')} (with --slo-ms, every request carries that objective)`)
      .option('--model <name>', 'the model to load')
      .option('--mix <spec>', 'several models: NAME=WEIGHT,... or zipf:ALPHA over the repository')
      .option('--protocol <json|binary|grpc>', 'json or binary HTTP bodies (binary = v2 binary tensor extension), or the v2 gRPC API (raw_input_contents)', 'json')
      .option('--concurrency-range <range>', 'closed loop: START:END:STEP, STEP may be xK (default 1)')
      .option('--request-rate-range <range>', 'open loop, requests/s: START[:END:STEP]')
      .option('--arrivals <process>', 'open-loop arrivals: constant, poisson, gamma:CV, mmpp[:peak=P,on=S,off=S]', 'poisson')
      .option('--trace <file>', 'open loop: replay arrival times from a CSV')
      .option('--time-column <name>', 'the trace column with arrival times', 'TIMESTAMP')
      .option('--time-unit <s|ms>', 'unit of a numeric time column', 's')
      .option('--rate-scale <x>', 'replay the trace x times faster', '1')
      .option('--trace-loop', 'start the trace over when it ends (until --duration)')
      .option('--duration <secs>', 'longest a step may run, warm-up included', '30')
      .option('--measurement-interval-ms <ms>', 'measurement window', '2000')
      .option('--stability-percentage <pct>', 'stop when 3 windows agree on throughput and p99 within this', '10')
      .option('--warmup-ms <ms>', 'discarded at the start of each step (default: one window)')
      .option('--slo-ms <ms>', 'latency SLO for attainment and goodput')
      .option('--seed <n>', 'seed for arrivals, model choice and random inputs', '1')
      .option('--input-data <random|zeros|file.json>', 'request inputs', 'random')
      .option('--shape <name:dims>', 'shape for an input with variable dimensions (repeatable)', collect)
      .option('--max-outstanding <n>', 'open loop: most requests in flight', '4096')
      .option('--connections <n>', 'HTTP connections (default: the largest concurrency, or 256); gRPC: HTTP/2 connections (default 1)')
      .option('--request-timeout-ms <ms>', 'HTTP: the client gives up after this long', '30000')
      .option('--timeout-ms <ms>', 'embedded: per-request queue timeout passed to rt.infer')
      .option('--drain-timeout-ms <ms>', 'wait this long for in-flight requests after a step', '10000')
      .option('--label <name>', 'series name in reports (default: the target)'),
  );
  cmd.parse(argv, { from: 'user' });
  const options = harnessOptions(cmd.opts(), argv);
  await runHarness(options, io);
  return 0;
}

type Opts = Record<string, string | boolean | string[] | undefined>;

function str(opts: Opts, key: string): string | undefined {
  const v = opts[key];
  return typeof v === 'string' ? v : undefined;
}

function harnessOptions(opts: Opts, argv: string[]): HarnessOptions {
  const loads = ['concurrencyRange', 'requestRateRange', 'trace'].filter((k) => opts[k] !== undefined);
  if (loads.length > 1) throw invalidArgument('choose one of --concurrency-range, --request-rate-range and --trace');
  let load: LoadSpec;
  if (opts['trace']) {
    load = { mode: 'trace', file: str(opts, 'trace')!, column: str(opts, 'timeColumn')!, unit: parseTimeUnit(str(opts, 'timeUnit')!), rateScale: parsePositiveNumber(str(opts, 'rateScale')!, '--rate-scale'), loop: opts['traceLoop'] === true };
  } else if (opts['requestRateRange']) {
    load = { mode: 'rate', values: parseRateRange(str(opts, 'requestRateRange')!), arrivals: parseArrivalSpec(str(opts, 'arrivals')!) };
  } else {
    load = { mode: 'concurrency', values: parseConcurrencyRange(str(opts, 'concurrencyRange') ?? '1') };
  }

  const url = str(opts, 'url');
  let target: TargetSpec;
  if (url && opts['embedded']) throw invalidArgument('choose one of --url and --embedded');
  if (url) {
    if (opts['policy']) throw invalidArgument('--policy applies to --embedded; an HTTP server chooses its policy when it starts');
    if (opts['admission']) throw invalidArgument('--admission applies to --embedded; an HTTP server chooses it when it starts (serval serve --admission)');
    const connections = str(opts, 'connections');
    const protocol = parseBenchProtocol(str(opts, 'protocol')!);
    const requestTimeoutMs = parsePositiveInt(str(opts, 'requestTimeoutMs')!, '--request-timeout-ms');
    target = protocol === 'grpc'
      ? { kind: 'grpc', url, connections: connections ? parsePositiveInt(connections, '--connections') : undefined, requestTimeoutMs }
      : {
        kind: 'http',
        url,
        protocol,
        connections: connections ? parsePositiveInt(connections, '--connections') : load.mode === 'concurrency' ? Math.max(...load.values) : undefined,
        requestTimeoutMs,
      };
  } else if (opts['embedded']) {
    const repo = str(opts, 'modelRepository');
    if (!repo) throw invalidArgument('--embedded needs --model-repository DIR');
    const timeout = str(opts, 'timeoutMs');
    const policy = str(opts, 'policy');
    const admission = str(opts, 'admission');
    const slo = str(opts, 'sloMs');
    target = {
      kind: 'embedded', modelRepository: repo, policy: policy === undefined ? undefined : parsePolicy(policy),
      timeoutMs: timeout ? parsePositiveInt(timeout, '--timeout-ms') : undefined,
      ...(admission === undefined ? {} : { admission: parseAdmission(admission) }),
      ...(admission !== undefined && slo !== undefined ? { sloMs: parsePositiveNumber(slo, '--slo-ms') } : {}),
    };
  } else {
    throw invalidArgument('name a target: --url http://host:port or --embedded --model-repository DIR');
  }

  const model = str(opts, 'model');
  const mix = str(opts, 'mix');
  if (model && mix) throw invalidArgument('choose one of --model and --mix');
  if (!model && !mix) throw invalidArgument('name the model to load with --model NAME (or several with --mix)');
  const windowMs = parsePositiveInt(str(opts, 'measurementIntervalMs')!, '--measurement-interval-ms');
  const warmup = str(opts, 'warmupMs');
  const slo = str(opts, 'sloMs');
  let shapes: Record<string, number[]> = {};
  for (const s of (opts['shape'] as string[] | undefined) ?? []) shapes = parseShapeOverride(s, shapes);
  return {
    target,
    models: model ? { kind: 'single', model } : { kind: 'mix', spec: parseMixSpec(mix!) },
    load,
    durationMs: parsePositiveNumber(str(opts, 'duration')!, '--duration') * 1000,
    windowMs,
    warmupMs: warmup === undefined ? windowMs : parseNonNegativeInt(warmup, '--warmup-ms'),
    stabilityPercentage: parsePositiveNumber(str(opts, 'stabilityPercentage')!, '--stability-percentage'),
    drainTimeoutMs: parseNonNegativeInt(str(opts, 'drainTimeoutMs')!, '--drain-timeout-ms'),
    sloMs: slo === undefined ? undefined : parsePositiveNumber(slo, '--slo-ms'),
    seed: parseNonNegativeInt(str(opts, 'seed')!, '--seed'),
    inputData: parseInputDataMode(str(opts, 'inputData')!),
    shapes,
    maxOutstanding: parsePositiveInt(str(opts, 'maxOutstanding')!, '--max-outstanding'),
    series: str(opts, 'label'),
    json: str(opts, 'json'),
    csv: str(opts, 'csv'),
    chart: str(opts, 'chart'),
    markdown: opts['markdown'] === true,
    quiet: opts['quiet'] === true,
    command: ['serval bench', ...argv].join(' '),
  };
}

async function compareCommand(argv: string[], io: CliIo): Promise<number> {
  const cmd = program('serval bench compare', io)
    .description('paired ratios (B/A) of throughput, p50, p99 and SLO attainment for each step both reports measured')
    .argument('<a.json>')
    .argument('<b.json>')
    .option('--markdown', 'print the table as markdown');
  cmd.parse(argv, { from: 'user' });
  const [fileA, fileB] = cmd.args;
  const [a, b] = [await readReport(fileA), await readReport(fileB)];
  const pairs = pairSteps(a, b);
  if (pairs.length === 0) throw new BenchError('INVALID_FILE', `${fileA} and ${fileB} have no step in common (same scenario, series, mode and value)`);
  io.stdout.write(`A: ${fileA} (${a.title}, ${a.createdAt})\nB: ${fileB} (${b.title}, ${b.createdAt})\n\n`);
  io.stdout.write(`${renderComparison(pairs, cmd.opts()['markdown'] === true)}\n`);
  return 0;
}

async function namedCommand(name: NamedBenchmark, argv: string[], io: CliIo): Promise<number> {
  // Loaded on demand: each pulls in its baselines (onnxruntime-node) and child-process plumbing.
  const mod = (await import(`./named/${name}.js`)) as { run(argv: string[], io: CliIo, command: (n: string) => Command): Promise<number> };
  return mod.run(argv, io, (n) => addOutputOptions(program(n, io)));
}
