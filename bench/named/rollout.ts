/**
 * `npm run bench -- rollout`: the rollout scenario (issue 12). Canary: good / slower / erroring / drifting
 * candidates under open-loop load with the issue's spec and default guards (promoted, or rolled back within
 * one analysis window; client failures split into the candidate's own errors and all others). Shadow: the
 * stable arm's p99 at 50 % load without and with a 100 % copy, alternating windows in one run. Drift:
 * detection of a 0.5-sigma shift, false alarms on clean data, and the CPU cost per request.
 * Each canary scenario, the shadow run and the runtime drift cost run in a fresh child process.
 * Prints tables and the canary timeline; `--json` and `--chart` write them.
 */
import { writeFile } from 'node:fs/promises';
import type { CliIo } from '../cli.js';
import { DEFAULT_DRIFT } from '../../src/drift/drift-options.js';
import { parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { writeChart } from '../report/chart.js';
import { type Column, renderTable } from '../report/table.js';
import { CANARY_SCENARIOS, type CanaryResult } from '../rollout/canary-scenarios.js';
import { detectionRow, observeCost, type DetectionRow, type ObserveCost, type RuntimeDriftCost } from '../rollout/drift-detection.js';
import { rolloutTimelineSpec } from '../rollout/rollout-chart.js';
import { runInChild } from '../rollout/rollout-trial.js';
import type { ShadowResult } from '../rollout/shadow-overhead.js';
import type { CommandFactory } from './common.js';

const PARTS = ['canary', 'shadow', 'drift'] as const;

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = command('npm run bench -- rollout')
    .description('canary / shadow / drift scenarios of safe model rollout (issue 12)')
    .option('--parts <list>', `comma-separated subset of ${PARTS.join(', ')}`, PARTS.join(','))
    .option('--rate <rps>', 'canary: open-loop arrival rate (requests/s)', '200')
    .option('--step-seconds <s>', 'canary: each step\'s analysis window', '3')
    .option('--shadow-window <s>', 'shadow: seconds per off/on window', '3')
    .option('--shadow-pairs <n>', 'shadow: off/on window pairs', '5')
    .option('--drift-trials <n>', 'drift: seeded trials per row', '100')
    .option('--seed <n>', 'seed', '1');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const parts = String(o['parts']).split(',').map((s) => s.trim());
  const seed = parsePositiveInt(String(o['seed']), '--seed');
  const markdown = o['markdown'] === true;
  const say = (s: string) => { if (o['quiet'] !== true) io.stderr.write(`${s}\n`); };
  const out: { canary?: CanaryResult[]; shadow?: ShadowResult; drift?: { detection: DetectionRow[]; cost: ObserveCost[]; runtime: RuntimeDriftCost[] } } = {};
  let ok = true;

  if (parts.includes('canary')) {
    const rate = parsePositiveNumber(String(o['rate']), '--rate');
    const stepSeconds = parsePositiveNumber(String(o['stepSeconds']), '--step-seconds');
    out.canary = [];
    for (const s of CANARY_SCENARIOS) {
      say(`canary: ${s.name} candidate at ${rate} req/s ...`);
      out.canary.push(await runInChild({ kind: 'canary', scenario: s.name, rate, seed, stepSeconds }));
    }
    io.stdout.write(`\nCanary (steps 10/50/100 %, ${stepSeconds} s windows, default guards, Poisson ${rate} req/s)\n`);
    io.stdout.write(`${renderTable(canaryColumns, out.canary, markdown)}\n`);
    for (const r of out.canary) {
      io.stdout.write(`\n${r.scenario}: ${r.reason}\n`);
      for (const e of r.state.timeline) io.stdout.write(`  ${String(e.atMs).padStart(6)} ms  ${e.event.padEnd(8)} candidate ${String(e.candidateWeight).padStart(3)}%  ${e.reason}\n`);
    }
    ok &&= out.canary.every((r) => r.met && r.otherFailures === 0);
  }
  if (parts.includes('shadow')) {
    say('shadow: capacity, then off/on windows at 50 % load ...');
    out.shadow = await runInChild({
      kind: 'shadow', seed, windowSeconds: parsePositiveNumber(String(o['shadowWindow']), '--shadow-window'), pairs: parsePositiveInt(String(o['shadowPairs']), '--shadow-pairs'),
    });
    const s = out.shadow;
    io.stdout.write(`\nShadow (100 % copy; capacity ${s.capacity.toFixed(0)} req/s, load ${s.rate.toFixed(0)} req/s)\n`);
    io.stdout.write(`${renderTable(shadowColumns, s.windows, markdown)}\n`);
    io.stdout.write(`stable p99 off ${s.p99OffMs.toFixed(2)} ms, on ${s.p99OnMs.toFixed(2)} ms: ${(s.increase * 100).toFixed(1)} %; ` +
      `p99 spread between windows of one mode ${(s.noise * 100).toFixed(0)} %; target < 10 %: ${s.verdict}\n` +
      `CPU per stable request ${(s.cpuIncrease * 100).toFixed(1)} % with the copy; shadow ${JSON.stringify(s.shadow)}\n`);
  }
  if (parts.includes('drift')) {
    const trials = parsePositiveInt(String(o['driftTrials']), '--drift-trials');
    say('drift: detection and false alarms on seeded data ...');
    const detection = [250, 500].map((windowRows) => detectionRow({ ...DEFAULT_DRIFT, windowRows }, trials, 20));
    const cost = [[16, 1], [128, 1], [128, 0.1]].map(([f, r]) => observeCost(f!, r!));
    say('drift: CPU per request on the runtime, monitoring off/on ...');
    const runtime = await runInChild({ kind: 'drift-runtime', requests: 2000, pairs: 3 });
    out.drift = { detection, cost, runtime };
    io.stdout.write(`\nDrift (16 N(0,1) features, feature 3 shifted by 0.5 sigma after a ${DEFAULT_DRIFT.referenceRows}-request reference; PSI >= ${DEFAULT_DRIFT.psiThreshold} and KS p < ${DEFAULT_DRIFT.alpha}/features)\n`);
    io.stdout.write(`${renderTable(detectionColumns, detection, markdown)}\n`);
    io.stdout.write(`${renderTable(costColumns, cost, markdown)}\n`);
    const mean = (mode: string) => runtime.filter((r) => r.mode === mode).reduce((a, r) => a + r.cpuUsPerRequest, 0) / runtime.filter((r) => r.mode === mode).length;
    io.stdout.write(`fraud_mlp on the runtime, 128 features, every request sampled: CPU per request ${runtime.map((r) => `${r.mode} ${r.cpuUsPerRequest.toFixed(0)}`).join(', ')} us ` +
      `(mean off ${mean('off').toFixed(0)}, on ${mean('on').toFixed(0)})\n`);
  }
  if (o['json']) await writeFile(String(o['json']), `${JSON.stringify({ date: new Date().toISOString(), ...out }, null, 1)}\n`);
  if (o['chart'] && out.canary) await writeChart(String(o['chart']), rolloutTimelineSpec(out.canary));
  return ok ? 0 : 1;
}

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));

const canaryColumns: Column<CanaryResult>[] = [
  { header: 'candidate', value: (r) => r.scenario, right: false },
  { header: 'expected', value: (r) => r.expected, right: false },
  { header: 'outcome', value: (r) => r.phase, right: false },
  { header: 'met', value: (r) => (r.met ? 'yes' : 'NO'), right: false },
  { header: 'decided at', value: (r) => (r.decidedAtMs === undefined ? '-' : `${(r.decidedAtMs / 1000).toFixed(2)} s (step ${r.decidedInStep}, +${(r.msIntoStep! / 1000).toFixed(2)} s)`) },
  { header: 'requests', value: (r) => String(r.requests) },
  { header: 'candidate errors', value: (r) => String(r.candidateErrors) },
  { header: 'other failures', value: (r) => String(r.otherFailures) },
  { header: 'stable p99 ms', value: (r) => ms(r.stableP99Ms) },
  { header: 'candidate p99 ms', value: (r) => ms(r.candidateP99Ms) },
];

const shadowColumns: Column<ShadowResult['windows'][number]>[] = [
  { header: 'window', value: (w) => w.mode, right: false },
  { header: 'requests', value: (w) => String(w.requests) },
  { header: 'failures', value: (w) => String(w.failures) },
  { header: 'stable p50 ms', value: (w) => ms(w.p50Ms) },
  { header: 'stable p99 ms', value: (w) => ms(w.p99Ms) },
  { header: 'CPU us / request', value: (w) => w.cpuUsPerRequest.toFixed(0) },
  { header: 'load (1 min)', value: (w) => w.load1.toFixed(1) },
];

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const detectionColumns: Column<DetectionRow>[] = [
  { header: 'window (requests)', value: (r) => String(r.windowRows) },
  { header: 'flagged within', value: (r) => `${r.requestsAfterShift} requests` },
  { header: 'shift detected', value: (r) => `${r.detected}/${r.trials}` },
  { header: 'other feature flagged', value: (r) => `${r.wrongFeature}/${r.trials}` },
  { header: 'clean windows', value: (r) => String(r.falseAlarmWindows) },
  { header: 'false alarms / model window', value: (r) => pct(r.falseAlarmsPerModelWindow) },
  { header: 'false alarms / feature window', value: (r) => pct(r.falseAlarmsPerFeatureWindow) },
];

const costColumns: Column<ObserveCost>[] = [
  { header: 'features', value: (r) => String(r.features) },
  { header: 'sample rate', value: (r) => String(r.sampleRate) },
  { header: 'CPU us / request', value: (r) => r.cpuUsPerRequest.toFixed(2) },
];
