/**
 * `npm run bench -- scenarios [--policy all] [--quick]`: every scenario of bench/scenarios.ts against serval
 * embedded, once per placement policy, on the same seeded arrival sequence, each trial in a fresh child
 * process. Capacity is measured first (closed-loop saturation with the runtime's default policy) for each
 * repository and model set, and loads are fractions of it. One comparison table and one chart.
 *
 * SLO: `--slo-ms`, or `--slo-scale` x the p50 latency at concurrency 1 from the capacity run (AlpaServe's
 * slo_scale), at least 1 ms.
 */
import { existsSync } from 'node:fs';
import type { AdmissionName, PolicyName } from '../../src/api-types.js';
import type { CliIo } from '../cli.js';
import { parseArrivalSpec } from '../arrivals.js';
import { invalidArgument } from '../errors.js';
import type { LoadSpec, TargetSpec } from '../harness.js';
import { parseMixSpec } from '../mix.js';
import { parsePositiveNumber } from '../parse.js';
import { parseAdmissionList, parsePolicyList } from '../policies.js';
import { comparisonBarsSpec } from '../report/chart.js';
import { fmtMs, fmtRate } from '../report/format.js';
import { type Column, renderTable } from '../report/table.js';
import type { StepResult } from '../report/types.js';
import { type GeneratedRepository, HETERO_SLOWDOWN, writeHeteroRepository } from '../scenario-repos.js';
import { CODE_TRACE, SCENARIOS, type Scenario } from '../scenarios.js';
import { loadTrace } from '../trace.js';
import type { SweepTrial } from '../trials/trial.js';
import { addCommonOptions, type CommandFactory, type CommonOptions, finish, readCommonOptions, runTrials, type Trial } from './common.js';

const CAPACITY_POLICY: PolicyName = 'least_outstanding';
const MAX_OUTSTANDING = 65_536;

interface Capacity {
  key: string;
  /** Saturation throughput, infer/s. */
  capacity: number;
  /** p50 at concurrency 1, ms. */
  p50AtOne: number;
  sloMs: number;
}

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addCommonOptions(command('npm run bench -- scenarios'))
    .description('every scenario x every placement policy against serval embedded, same seeded arrivals, fresh process per trial')
    .option('--policy <list>', 'all, or a comma-separated list of placement policies', 'all')
    .option('--admission <list>', 'all, or a comma-separated list of admission policies (each x each placement policy; requests carry the SLO as their objective)', 'none')
    .option('--scenarios <list>', `comma-separated subset of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('--slo-ms <ms>', 'latency SLO (default: --slo-scale x p50 at concurrency 1)')
    .option('--slo-scale <x>', 'SLO as a multiple of the p50 latency at concurrency 1', '10')
    .option('--code-trace <file>', 'the trace the trace scenarios replay', CODE_TRACE);
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const policies = parsePolicyList(String(o['policy']));
  const admissions = parseAdmissionList(String(o['admission']));
  const codeTrace = String(o['codeTrace']);
  const skipped: string[] = [];
  const scenarios = selectScenarios(o['scenarios'] as string | undefined).filter((s) => {
    if (s.load.kind !== 'trace' || existsSync(codeTrace)) return true;
    skipped.push(`skipped ${s.name}: trace ${codeTrace} not found (--code-trace FILE)`);
    return false;
  });
  const sloMs = o['sloMs'] === undefined ? undefined : parsePositiveNumber(String(o['sloMs']), '--slo-ms');
  const sloScale = parsePositiveNumber(String(o['sloScale']), '--slo-scale');
  const quiet = o['quiet'] === true;

  const generated: GeneratedRepository[] = [];
  try {
    const repoFor = new Map<Scenario['repository'], string>([['given', c0.modelRepository]]);
    if (scenarios.some((s) => s.repository === 'hetero')) {
      const hetero = await writeHeteroRepository(c0.modelRepository, c0.model);
      generated.push(hetero);
      repoFor.set('hetero', hetero.dir);
    }
    const groups = new Map<string, { repository: string; models: SweepTrial['models'] }>();
    for (const s of scenarios) groups.set(groupKey(s), { repository: repoFor.get(s.repository)!, models: modelsOf(s, c0.model) });

    const capacities = await measureCapacities(groups, c0, sloMs, sloScale, io, quiet);
    const failures = [...skipped, ...capacities.failures];
    const trials: Trial[] = [];
    for (const s of scenarios) {
      const cap = capacities.byKey.get(groupKey(s));
      if (!cap) continue; // its capacity run failed: noted above
      const load = await scenarioLoad(s, cap.capacity, codeTrace);
      for (const policy of policies) {
        for (const admission of admissions) trials.push(scenarioTrial(s, policy, admission, repoFor.get(s.repository)!, load, cap, c0));
      }
    }
    const results = await runTrials('scenarios', trials, io, quiet, c0.repeat);
    failures.push(...results.failures);
    const capTable = [...capacities.byKey.values()];
    const capCols: Column<Capacity>[] = [
      { header: 'repository / models', value: (c) => c.key, right: false },
      { header: 'capacity infer/s', value: (c) => fmtRate(c.capacity) },
      { header: 'p50 at c=1 ms', value: (c) => fmtMs(c.p50AtOne) },
      { header: 'SLO ms', value: (c) => fmtMs(c.sloMs) },
    ];
    return await finish({
      name: 'scenarios',
      title: `scenarios: ${scenarios.map((s) => s.name).join(', ')} x ${policies.join(', ')}${admissions.length > 1 || admissions[0] !== 'none' ? ` x admission ${admissions.join(', ')}` : ''} (serval embedded)`,
      quick: c0.quick,
      argv,
      settings: { modelRepository: c0.modelRepository, model: c0.model, policies, admissions, scenarios, capacities: capTable, seed: c0.seed, timing: c0.timing },
      steps: results.steps,
      notes: [
        ...scenarios.map((s) => `${s.name}: ${s.what}`),
        `capacity: closed-loop saturation with policy ${CAPACITY_POLICY}; loads are fractions of it`,
        scenarios.some((s) => s.repository === 'hetero')
          ? `hetero: instances emulate devices ${HETERO_SLOWDOWN.join('x and ')}x slower (config parameter instance_slowdown: multiples of one curve calibrated once at load)`
          : '',
        ...placementNotes(results.steps, scenarios, c0.model),
        scenarios.some((s) => s.load.kind === 'trace') ? 'burst-trace: Azure LLM inference trace 2023 (code), CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024' : '',
        ...failures.map((f) => `FAILED ${f}`),
      ].filter(Boolean),
      extra: [['capacity (measured first)', renderTable(capCols, capTable, false), renderTable(capCols, capTable, true)]],
      chart: comparisonBarsSpec(results.steps, ['p99', 'attainment', 'goodput']),
      opts: c0.output,
      io,
    });
  } finally {
    for (const g of generated) await g.remove();
  }
}

/** How each policy split a heterogeneous scenario's requests over its instances (from the runtime's stats). */
function placementNotes(steps: StepResult[], scenarios: Scenario[], model: string): string[] {
  const hetero = new Set(scenarios.filter((s) => s.repository === 'hetero').map((s) => s.name));
  return steps
    .filter((s) => hetero.has(s.scenario ?? '') && s.server?.placements?.[model])
    .map((s) => {
      const counts = s.server!.placements![model];
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      return `${s.scenario} ${s.series}: requests per instance ${counts.map((n) => `${((100 * n) / total).toFixed(0)}%`).join(' / ')}`;
    });
}

function selectScenarios(text: string | undefined): Scenario[] {
  if (!text) return [...SCENARIOS];
  return text.split(',').map((name) => {
    const s = SCENARIOS.find((x) => x.name === name.trim());
    if (!s) throw invalidArgument(`unknown scenario '${name}' (one of ${SCENARIOS.map((x) => x.name).join(', ')})`);
    return s;
  });
}

function modelsOf(s: Scenario, model: string): SweepTrial['models'] {
  return s.models === 'model' ? { kind: 'single', model } : { kind: 'mix', spec: parseMixSpec(s.models.mix) };
}

function groupKey(s: Scenario): string {
  return `${s.repository} / ${s.models === 'model' ? 'model' : s.models.mix}`;
}

async function measureCapacities(
  groups: Map<string, { repository: string; models: SweepTrial['models'] }>,
  c0: CommonOptions,
  sloMs: number | undefined,
  sloScale: number,
  io: CliIo,
  quiet: boolean,
): Promise<{ byKey: Map<string, Capacity>; failures: string[] }> {
  const concurrencies = c0.quick ? [1, 16, 256] : [1, 4, 16, 64, 256];
  const trials: Trial[] = [...groups].map(([key, g]) => ({
    label: `capacity ${key}`,
    timeoutMs: concurrencies.length * (c0.timing.maxDurationMs + c0.timing.drainTimeoutMs) + 120_000,
    spec: {
      kind: 'sweep',
      target: { kind: 'embedded', modelRepository: g.repository, policy: CAPACITY_POLICY },
      models: g.models,
      load: { mode: 'concurrency', values: concurrencies },
      step: c0.closedLoopStep,
      seed: c0.seed,
      inputData: { kind: 'random' },
      series: 'capacity',
      scenario: key,
    },
  }));
  const { steps, failures } = await runTrials('capacity', trials, io, quiet);
  const byKey = new Map<string, Capacity>();
  for (const key of groups.keys()) {
    const mine = steps.filter((s: StepResult) => s.scenario === key);
    if (mine.length === 0) continue;
    const capacity = Math.max(...mine.map((s) => s.throughput));
    const p50AtOne = mine.find((s) => s.value === 1)?.okLatencyMs.p50 ?? 1;
    byKey.set(key, { key, capacity, p50AtOne, sloMs: sloMs ?? Math.max(1, sloScale * p50AtOne) });
  }
  return { byKey, failures };
}

async function scenarioLoad(s: Scenario, capacity: number, traceFile: string): Promise<LoadSpec> {
  const rate = Number((s.load.fractionOfCapacity * capacity).toPrecision(4));
  if (s.load.kind === 'rate') return { mode: 'rate', values: [rate], arrivals: parseArrivalSpec(s.load.arrivals) };
  const trace = await loadTrace(traceFile, { column: s.load.column });
  return { mode: 'trace', file: traceFile, column: s.load.column, unit: 's', rateScale: rate / trace.meanRate, loop: true };
}

function scenarioTrial(s: Scenario, policy: PolicyName, admission: AdmissionName, repository: string, load: LoadSpec, cap: Capacity, c0: CommonOptions): Trial {
  const durationMs = (c0.quick ? s.durationS.quick : s.durationS.full) * 1000;
  const target: TargetSpec = admission === 'none'
    ? { kind: 'embedded', modelRepository: repository, policy }
    : { kind: 'embedded', modelRepository: repository, policy, admission, sloMs: cap.sloMs };
  const series = admission === 'none' ? policy : `${policy}+${admission}`;
  return {
    label: `${s.name} ${series}`,
    timeoutMs: durationMs + c0.timing.drainTimeoutMs + 120_000,
    spec: {
      kind: 'sweep',
      target,
      models: modelsOf(s, c0.model),
      load,
      // Fixed length, no stability stop: every policy gets exactly the same arrivals.
      step: { windowMs: c0.timing.windowMs, warmupMs: c0.timing.warmupMs, maxDurationMs: durationMs, drainTimeoutMs: c0.timing.drainTimeoutMs },
      sloMs: cap.sloMs,
      seed: c0.seed,
      inputData: { kind: 'random' },
      series,
      scenario: s.name,
      maxOutstanding: MAX_OUTSTANDING,
    },
  };
}
