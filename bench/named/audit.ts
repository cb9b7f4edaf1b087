/**
 * `npm run bench -- audit` (issue 13): `serval serve` with and without `--audit-log`, side by side, same model
 * and load as `npm run bench -- http` (closed loop from a separate process, binary bodies by default), each trial
 * in fresh processes, closed loop (throughput) and open loop at fixed rates (CPU per request at the same offered
 * load). For each trial: the server's own request count and CPU per request (its /metrics), and for
 * audited trials the trail checked after SIGTERM: `audit verify` passes and the decisions recorded equal the
 * requests the server answered. Also the serving-thread cost of one record with the store on the serving thread
 * vs in its worker (main-thread CPU, in process), the measurement behind `writerThread: 'worker'`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { InferOutputs } from '../../src/api-types.js';
import { queryTrail } from '../../src/audit/audit-query.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { verifyTrail } from '../../src/audit/audit-verify.js';
import type { CliIo } from '../cli.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import { invalidArgument } from '../errors.js';
import { parsePositiveNumber } from '../parse.js';
import type { SweepTrial } from '../trials/trial.js';
import { type BenchProtocol, parseBenchProtocol } from '../targets/grpc.js';
import {
  addClosedLoopOptions, addCommonOptions, closedLoopTimeoutMs, closedLoopTrial, type CommandFactory, finish, readClosedLoopOptions,
  readCommonOptions, runTrials, type Trial,
} from './common.js';
import { servalServeArgs, spawnServer } from './servers.js';

const OFF = 'serval serve';
const OPEN_LOOP_CONNECTIONS = 64;

type Load = { kind: 'concurrency' | 'rate'; value: number };

/** The closed-loop trial, or the same at a fixed Poisson rate. */
function withLoad(trial: SweepTrial, load: Load): SweepTrial {
  return load.kind === 'concurrency' ? trial : { ...trial, load: { mode: 'rate', values: [load.value], arrivals: { kind: 'poisson' } } };
}
const ON = 'serval serve --audit-log';

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addClosedLoopOptions(addCommonOptions(command('npm run bench -- audit')), '64')
    .description('serval serve with and without --audit-log (same load as the http benchmark), fresh processes per trial; counts, verify, CPU per request')
    .option('--protocol <p>', 'json or binary request bodies', 'binary')
    .option('--rate <list>', 'also open-loop (Poisson) trials at these request rates: server CPU per request at the same offered load; none to skip', '2000')
    .option('--records <n>', 'records for the serving-thread cost measurement', '20000');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const { concurrencies, policy } = readClosedLoopOptions(o);
  const parsed: BenchProtocol = parseBenchProtocol(String(o['protocol']), '--protocol');
  if (parsed === 'grpc') throw invalidArgument('--protocol: the audit benchmark compares HTTP servers: json or binary');
  const protocol = parsed;
  const accounting: string[] = [];
  const rates = String(o['rate']) === 'none' ? [] : String(o['rate']).split(',').map((r) => parsePositiveNumber(r, '--rate'));
  const loads: Load[] = [...concurrencies.map((c) => ({ kind: 'concurrency' as const, value: c })), ...rates.map((r) => ({ kind: 'rate' as const, value: r }))];
  const trials: Trial[] = loads.flatMap((load) => [false, true].map((audited): Trial => {
    const series = `${audited ? ON : OFF} ${protocol}`;
    const c = load.kind === 'concurrency' ? load.value : OPEN_LOOP_CONNECTIONS;
    const what = load.kind === 'concurrency' ? `c=${c}` : `${load.value} req/s`;
    return {
      label: `${series} ${what}`,
      timeoutMs: closedLoopTimeoutMs(c0),
      spec: async () => {
        const dir = audited ? mkdtempSync(join(tmpdir(), 'serval-audit-bench-')) : undefined;
        const serve = servalServeArgs(c0.modelRepository, policy);
        const running = await spawnServer(series, { ...serve, args: [...serve.args, '--shutdown-grace-secs', '0', ...(dir ? ['--audit-log', dir] : [])] });
        const before = await serverCounters(running.url, c0.model, running.pid);
        return {
          spec: withLoad(closedLoopTrial(c0, { kind: 'http', url: running.url, protocol, connections: c, requestTimeoutMs: 30_000 }, series, c), load),
          stop: async () => {
            const after = await serverCounters(running.url, c0.model, running.pid);
            await running.stop();
            const served = after.requests - before.requests;
            const perRequest = (a: number, b: number) => (((a - b) * 1e6) / Math.max(1, served)).toFixed(1);
            let line = `${series} ${what}: ${after.requests} requests answered by the server; serving (main) thread CPU ${perRequest(after.mainThreadSeconds, before.mainThreadSeconds)} us/request, `
              + `process CPU ${perRequest(after.cpuSeconds, before.cpuSeconds)} us/request (executor threads spin while idle)`;
            if (dir) {
              line += `; ${trailSummary(dir, after.requests)}`;
              rmSync(dir, { recursive: true, force: true });
            }
            accounting.push(line);
          },
        };
      },
    };
  }));
  const { steps, failures } = await runTrials('audit', trials, io, o['quiet'] === true, c0.repeat);
  const cost = await servingThreadCost(Number(o['records']));
  return finish({
    name: 'audit',
    title: `audit: ${c0.model}, serval serve with and without --audit-log (${protocol} bodies, policy ${policy})`,
    quick: c0.quick,
    argv,
    settings: { modelRepository: c0.modelRepository, model: c0.model, concurrencies, rates, protocol, policy, timing: c0.timing, seed: c0.seed, servingThreadCost: cost },
    steps,
    notes: [
      'closed loop from a separate load-generator process, as npm run bench -- http; client, server and model share this machine',
      ...accounting,
      `serving-thread CPU per record (main thread, ${cost.records} records, in process): store on the serving thread ${cost.mainUs.toFixed(2)} us, in its worker ${cost.workerUs.toFixed(2)} us (no trail: ${cost.noneUs.toFixed(2)} us for the same loop)`,
      ...failures.map((f) => `FAILED ${f}`),
    ],
    extra: [[`${ON} vs ${OFF}`, renderRatios(steps, `${OFF} ${protocol}`), renderRatios(steps, `${OFF} ${protocol}`, true)]],
    chart: sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps, ['throughput', 'p99'])]),
    opts: c0.output,
    io,
  });
}

/**
 * Requests the server answered for `model` (success + failure), its process CPU seconds (its /metrics) and its
 * main thread's CPU seconds (Linux: /proc/PID/task/PID/stat; NaN elsewhere).
 */
async function serverCounters(url: string, model: string, pid: number | undefined): Promise<{ requests: number; cpuSeconds: number; mainThreadSeconds: number }> {
  const stats = (await (await request(`${url}/v2/models/${model}/stats`)).body.json()) as { model_stats: { inference_stats: { success: { count: number }; fail: { count: number } } }[] };
  const requests = stats.model_stats.reduce((s, m) => s + m.inference_stats.success.count + m.inference_stats.fail.count, 0);
  const metrics = await (await request(`${url}/metrics`)).body.text();
  const cpu = /^process_cpu_seconds_total (\S+)$/m.exec(metrics);
  return { requests, cpuSeconds: cpu ? Number(cpu[1]) : NaN, mainThreadSeconds: threadCpuSeconds(pid) };
}

/** utime + stime of a process's main thread, seconds (fields 14 and 15 of /proc/PID/task/PID/stat, in clock ticks). */
function threadCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on Linux x86-64 and arm64. */
const CLOCK_TICKS = 100;

/** verify's verdict and whether the decisions recorded equal the requests answered. */
function trailSummary(dir: string, answered: number): string {
  const r = verifyTrail(dir);
  let decisions = 0;
  let dropped = 0;
  for (const rec of queryTrail(dir, {})) {
    if (rec.kind === 'decision') decisions++;
    else dropped += rec.count;
  }
  const verdict = r.ok ? `audit verify: ${r.verified} records verified` : `audit verify: BROKEN (${r.break?.reason})`;
  const counts = decisions === answered ? 'counts match' : `COUNTS DIFFER (${decisions} decisions recorded)`;
  return `${verdict}; ${counts}${dropped ? `, ${dropped} dropped` : ''}`;
}

/**
 * Serving-thread CPU per audited request: the main thread's CPU time over a loop that runs `records` requests
 * (resolved at once) through an AuditTrail; the same loop without a trail is reported beside it.
 */
async function servingThreadCost(records: number): Promise<{ records: number; mainUs: number; workerUs: number; noneUs: number }> {
  const inputs = { features: { data: new Float32Array(128).fill(0.5), dims: [1, 128] } };
  const outputs: InferOutputs = { probability: { type: 'FP32', dims: [1, 1], data: new Float32Array([0.25]) } };
  const context = { placement: 'least_outstanding', admission: 'none', servingVersion: () => 1 };
  const loop = async (trail: AuditTrail | undefined): Promise<number> => {
    const start = threadCpuSeconds(process.pid);
    for (let i = 0; i < records; i += 256) {
      const batch = [];
      for (let k = 0; k < 256; k++) {
        batch.push(trail ? trail.around('fraud_mlp', inputs, undefined, () => Promise.resolve(outputs)) : Promise.resolve(outputs));
      }
      await Promise.all(batch);
      await new Promise((r) => setImmediate(r));
    }
    await trail?.flush();
    return ((threadCpuSeconds(process.pid) - start) * 1e6) / records;
  };
  const measure = async (writerThread: 'main' | 'worker'): Promise<number> => {
    const dir = mkdtempSync(join(tmpdir(), 'serval-audit-cost-'));
    try {
      const trail = await AuditTrail.open({ path: dir, writerThread }, context);
      const us = await loop(trail);
      await trail.close();
      return us;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  await loop(undefined); // warm up the JIT
  const noneUs = await loop(undefined);
  const mainUs = await measure('main');
  const workerUs = await measure('worker');
  return { records, mainUs, workerUs, noneUs };
}
