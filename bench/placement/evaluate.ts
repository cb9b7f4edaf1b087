#!/usr/bin/env node
/**
 * The live placement evaluation: every policy on every scenario of eval-scenarios.ts, the same seeded
 * arrivals for all, several seeds and a load sweep, each (scenario, policy) in a fresh child process. Then
 * the simulator predicts every live step from the scenario's declared devices, and the report gives p50 /
 * p95 / p99, SLO attainment and goodput with 95% confidence intervals, the highest sustainable rate at 99%
 * attainment, paired learned-vs-baseline differences, and the simulator's p99 error per scenario.
 *
 *   node dist/bench/placement/evaluate.js [--seeds 5] [--policies a,b] [--scenarios a,b] [--quick]
 *
 * Writes bench/results/placement.{json,md,svg}. Check `uptime` first: the numbers assume a quiet machine.
 */
import { fork } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadAddon, type NativeSimConfig } from '../../src/binding.js';
import { BUNDLED_REPOSITORY } from '../../src/model-generator/generate.js';
import { PROFILE_SCHEMA, writeProfileFile, type ProfileFile } from '../../src/placement/profile-file.js';
import { capacityPerSecond, decisionNs, instanceCurves } from '../../src/placement/sim-scenario.js';
import { meanCv } from '../../src/placement/profile-file.js';
import { hostInfo } from '../report/json.js';
import { writeChart } from '../report/chart.js';
import { entryPoint, repoRoot } from '../paths.js';
import { ADMISSIONS, parseAdmissionList, POLICIES } from '../policies.js';
import { CODE_TRACE } from '../scenarios.js';
import { UNFINISHED } from '../load/recorder.js';
import { loadTrace } from '../trace.js';
import { configText, declaredProfile, EVAL_SCENARIOS, type EvalScenario, writeScenarioRepository } from './eval-scenarios.js';
import type { EvalStep, EvalStepResult, EvalTrialReply, EvalTrialSpec } from './eval-trial.js';
import { admissionMarkdown } from './admission-report.js';
import { placementMarkdown, placementChart, summarise, type EvalRecord } from './eval-report.js';

const SLO_SCALE = 10;
const TRACE_WINDOW = 4000;

function runChild(spec: EvalTrialSpec, timeoutMs: number): Promise<Extract<EvalTrialReply, { ok: true }>> {
  const { file, execArgv } = entryPoint('bench/placement/eval-trial');
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    let reply: EvalTrialReply | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (m: EvalTrialReply) => (reply = m));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (reply?.ok) resolve(reply);
      else reject(new Error(reply ? reply.message : `trial exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
    child.send(spec);
  });
}

/** The SLO every policy is measured against: SLO_SCALE x the fastest instance's l(1) plus overhead and batching delay. */
function sloMsOf(s: EvalScenario, profile: ProfileFile): number {
  const m = s.models[0]!;
  const p = profile.models[m.name]!;
  const fastest = Math.min(...p.instances.map((i) => i.meanUs[0]!));
  return Number(((SLO_SCALE * (fastest + p.overheadUs + m.maxQueueDelayUs)) / 1000).toFixed(1));
}

/** Requests per second the scenario sustains at its SLO (for a mix: until its busiest model saturates). */
function capacityOf(s: EvalScenario, profile: ProfileFile, sloMs: number): number {
  const shares = s.weights ?? [1];
  const total = shares.reduce((a, b) => a + b, 0);
  return Math.min(...shares.map((w, i) => {
    const p = profile.models[s.models[i]!.name]!;
    return capacityPerSecond(instanceCurves(p, p.instances.map(() => 1)), sloMs) / (w / total);
  }));
}

/** The simulator's prediction of one live step: the measured devices, the same process, rate and SLO. */
function simStep(s: EvalScenario, profile: ProfileFile, policy: string, step: EvalStep, sloMs: number, windowMs: number, warmupMs: number): NativeSimConfig {
  const durationS = (windowMs + warmupMs) / 1000;
  return {
    models: s.models.map((m) => {
      const p = profile.models[m.name]!;
      return { maxBatchSize: p.maxBatchSize, preferredBatchSizes: p.preferredBatchSizes, maxQueueDelayUs: p.maxQueueDelayUs, sloUs: sloMs * 1000 };
    }),
    instances: s.models.flatMap((m, k) => {
      const p = profile.models[m.name]!;
      return instanceCurves(p, p.instances.map(() => 1)).map((latencyUs, i) => ({ model: k, latencyUs, noiseCv: meanCv(p.instances[i]!) }));
    }),
    arrivals: step.traceS
      ? { traceS: step.traceS, rateScale: step.rate / ((step.traceS.length - 1) / step.traceS.at(-1)!), durationS, modelWeights: s.weights, seed: step.seed }
      : { process: s.arrivals, rate: step.rate, durationS, modelWeights: s.weights, seed: step.seed },
    policy,
    options: { seed: step.seed, overheadUs: profile.models[s.models[0]!.name]!.overheadUs, decisionNs: decisionNs(policy), warmupS: warmupMs / 1000 },
  };
}

async function main(): Promise<void> {
  const cmd = new Command('bench/placement/evaluate')
    .option('--seeds <n>', 'seeds per (scenario, policy, load)', '5')
    .option('--policies <list>', 'comma-separated placement policies (PLACEMENT+ADMISSION: that one combination)', POLICIES.join(','))
    .option('--admissions <list>', `comma-separated admission policies (each x each placement policy): ${ADMISSIONS.join(', ')}`, 'none')
    .option('--scenarios <list>', 'comma-separated scenarios', EVAL_SCENARIOS.map((s) => s.name).join(','))
    .option('--window-ms <ms>', 'measured time per step', '1000')
    .option('--warmup-ms <ms>', 'discarded warm-up per step', '300')
    .option('--out <dir>', 'where to write placement.{json,md,svg}', join(repoRoot, 'bench', 'results'))
    .option('--quick', 'smoke run: 2 seeds, the middle load only')
    .option('--profile-out <file>', 'only profile the scenarios\' devices and write them as one profile file (for serval train-policy)')
    .option('--report-only <json>', 'only rewrite placement.md and placement.svg from an earlier placement.json');
  cmd.parse(process.argv);
  const o = cmd.opts<{ seeds: string; policies: string; admissions: string; scenarios: string; windowMs: string; warmupMs: string; out: string; quick?: boolean; profileOut?: string; reportOnly?: string }>();
  if (o.reportOnly) {
    const saved = JSON.parse(await readFile(o.reportOnly, 'utf8')) as Parameters<typeof placementMarkdown>[0] & { records: EvalRecord[] };
    const summary = summarise(saved.records);
    await writeFile(o.reportOnly, `${JSON.stringify({ ...saved, summary }, null, 1)}\n`);
    await writeFile(join(o.out, 'placement.md'), placementMarkdown(saved, summary) + admissionMarkdown(saved.records));
    await writeChart(join(o.out, 'placement.svg'), placementChart(summary));
    return;
  }
  const seeds = Array.from({ length: o.quick ? 2 : Number(o.seeds) }, (_, i) => 101 + i);
  // Every (placement, admission) combination; a combination is named by its placement policy alone when
  // it admits everything, else placement+admission.
  const admissions = parseAdmissionList(o.admissions);
  // An entry PLACEMENT+ADMISSION in --policies names one combination by itself.
  const combos = o.policies.split(',').flatMap((entry) => {
    const [policy, one] = entry.split('+') as [string, string | undefined];
    return (one === undefined ? admissions : parseAdmissionList(one)).map((admission) => ({ policy, admission, label: admission === 'none' ? policy : `${policy}+${admission}` }));
  });
  const scenarios = EVAL_SCENARIOS.filter((s) => o.scenarios.split(',').includes(s.name));
  const windowMs = Number(o.windowMs), warmupMs = Number(o.warmupMs);
  const trace = (await loadTrace(CODE_TRACE, { column: 'TIMESTAMP' })).times;
  const testTrace = trace.slice(Math.floor(trace.length * 0.8));
  const started = performance.now();
  const records: EvalRecord[] = [];
  const sim = loadAddon().sim;
  const profiles = new Map<string, ProfileFile>();  // measured (--profile-out), by repository config: scenarios with the same devices share one
  const used: ProfileFile[] = [];
  const profileOf = async (s: EvalScenario): Promise<ProfileFile> => {
    const key = s.models.map((m) => configText(m, undefined)).join('\n');
    if (!profiles.has(key)) {
      const probe = await writeScenarioRepository(s, BUNDLED_REPOSITORY);
      try {
        profiles.set(key, (await runChild({ kind: 'profile', repository: probe.dir, samples: 20 }, 300_000)).profile!);
      } finally {
        await probe.remove();
      }
    }
    return profiles.get(key)!;
  };
  if (o.profileOut) {
    const merged: ProfileFile = { schema: PROFILE_SCHEMA, createdAt: new Date().toISOString(), host: hostInfo(), repository: 'bench/placement scenarios', models: {} };
    for (const s of scenarios) {
      const p = await profileOf(s);
      for (const [name, m] of Object.entries(p.models)) merged.models[`${s.name}.${name}`] ??= m;
    }
    await writeProfileFile(o.profileOut, merged);
    process.stderr.write(`wrote ${o.profileOut}\n`);
    return;
  }
  for (const s of scenarios) {
    // The declared devices, not a measured profile: SLO, capacity and rates are the same on every run.
    const profile = declaredProfile(s);
    used.push(profile);
    const sloMs = sloMsOf(s, profile);
    const capacity = capacityOf(s, profile, sloMs);
    const loads = o.quick ? [s.loads[Math.floor(s.loads.length / 2)]!] : s.loads;
    const steps: EvalStep[] = seeds.flatMap((seed) => loads.map((load) => {
      const step: EvalStep = { seed, load, rate: Number((load * capacity).toPrecision(4)) };
      if (s.arrivals === 'trace') {
        const start = ((seed - 101) * 1733) % Math.max(1, testTrace.length - TRACE_WINDOW);
        const w = testTrace.slice(start, start + TRACE_WINDOW);
        step.traceS = w.map((t) => t - w[0]!);
      }
      return step;
    }));
    const repo = await writeScenarioRepository(s, BUNDLED_REPOSITORY, sloMs);
    const mix = { models: s.models.map((m) => m.name), weights: (s.weights ?? [1]).map((w, _, a) => w / a.reduce((x, y) => x + y, 0)) };
    try {
      for (const { policy, admission, label } of combos) {
        const t0 = performance.now();
        const reply = await runChild({
          kind: 'run', repository: repo.dir, scenario: s.name, policy, admission, profile, mix, arrivals: s.arrivals, sloMs, steps,
          windowMs, warmupMs, drainTimeoutMs: 1000,
        }, 600_000);
        for (const live of reply.steps!) {
          const step = steps.find((x) => x.seed === live.seed && x.load === live.load)!;
          const predicted = sim.simulate({ ...simStep(s, profile, policy, step, sloMs, windowMs, warmupMs), ...(admission === 'none' ? {} : { admission }) });
          records.push({ scenario: s.name, policy: label, seed: live.seed, load: live.load, rate: step.rate, sloMs, capacity, live: slim(live), sim: { p50Ms: predicted.p50Ms, p95Ms: predicted.p95Ms, p99Ms: predicted.p99Ms, attainment: predicted.attainment } });
        }
        process.stderr.write(`${s.name} ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s (total ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
      }
    } finally {
      await repo.remove();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = summarise(records);
  const meta = { createdAt: new Date().toISOString(), host: hostInfo(), seconds, seeds, windowMs, warmupMs, sloScale: SLO_SCALE, scenarios: scenarios.map((s) => ({ name: s.name, what: s.what, loads: s.loads })) };
  await writeFile(join(o.out, 'placement.json'), `${JSON.stringify({ ...meta, summary, records, profiles: used }, null, 1)}\n`);
  await writeFile(join(o.out, 'placement.md'), placementMarkdown(meta, summary) + admissionMarkdown(records));
  await writeChart(join(o.out, 'placement.svg'), placementChart(summary));
  process.stderr.write(`wrote ${join(o.out, 'placement.{json,md,svg}')} in ${seconds.toFixed(0)} s\n`);
}

function slim(r: EvalStepResult): EvalRecord['live'] {
  return {
    policyFallbacks: r.policyFallbacks,
    p50Ms: r.latencyMs.p50, p95Ms: r.latencyMs.p95, p99Ms: r.latencyMs.p99, attainment: r.attainment ?? 0, goodput: r.goodput ?? 0,
    throughput: r.throughput, offeredRate: r.offeredRate, arrivals: r.arrivals, failed: r.failed, lagP99Ms: r.lagMs?.p99 ?? null,
    shed: r.shed, arrivalShedP99Ms: r.arrivalShedP99Ms, unanswered: r.failures[UNFINISHED] ?? 0,
  };
}

main().catch((err: Error) => {
  process.stderr.write(`placement evaluation: ${err.message}\n`);
  process.exitCode = 1;
});
