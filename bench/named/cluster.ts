/**
 * `npm run bench -- cluster`: `serval route` in front of local `serval serve` replicas (child processes).
 *
 * - overhead: one replica (plain fraud_mlp), direct vs through the router (forwarder threads, and
 *   --forward-on main), interleaved A B C A B C: p50 at
 *   concurrency 1 (the router's added latency), router CPU time per request, and the closed-loop
 *   throughput ceiling (c=16) of each.
 * - policies: 4 replicas on emulated devices of unequal speed (slowdowns 1, 1, 2, 4), the same seeded
 *   open-loop arrivals for every placement policy, at low load, bursts, the trace's shape and overload:
 *   SLO attainment, p50 and p99, against round_robin (what a Kubernetes Service does).
 * - failover: the same fleet under 40% load; one replica is killed (SIGKILL) and restarted on its port
 *   mid-run; every failed request is counted against what was in flight on the dead replica (at most one
 *   batch per router slot).
 */
import { writeFileSync } from 'node:fs';
import type { CliIo } from '../cli.js';
import { parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { fmtPercent } from '../report/format.js';
import { renderTable, type Column } from '../report/table.js';
import { CODE_TRACE } from '../scenarios.js';
import { loadTrace } from '../trace.js';
import { burstRates, poissonFromRates, traceRates } from '../autoscale/arrival-shapes.js';
import { cpuSeconds, removeRepository, startReplica, startRouter, writeReplicaRepository, type Server } from '../cluster/fleet.js';
import { closedLoop, openLoop, percentile, type Outcome } from '../cluster/open-loop-client.js';
import type { CommandFactory } from './common.js';

const DEVICE = '1:10,4:16';
const MAX_BATCH = 4;
const SLOWDOWNS = [1, 1, 2, 4];
/** Requests per second the fleet serves at full batches: sum of 4 / (16 ms x slowdown). */
const CAPACITY = SLOWDOWNS.reduce((a, s) => a + 4 / (0.016 * s), 0);

interface PolicyRow { scenario: string; policy: string; admission: string; sent: number; ok: number; attainment: number; p50: number; p99: number }

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 1 ? 3 : 1) : '-');

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = command('npm run bench -- cluster')
    .description('serval route over local serval serve replicas: router overhead, placement policies across unequal replicas, failover')
    .option('--phases <list>', 'overhead,policies,failover', 'overhead,policies,failover')
    .option('--policies <list>', 'placement policies at the router', 'round_robin,power_of_two,least_outstanding,earliest_finish_time')
    .option('--seconds <s>', 'open-loop seconds per policy and scenario', '5')
    .option('--slo-ms <ms>', 'latency objective of the policies phase', '60')
    .option('--seed <n>', 'arrival seed', '1')
    .option('--code-trace <file>', 'the trace whose shape is replayed', CODE_TRACE);
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  const phases = new Set(String(o['phases']).split(','));
  const seconds = parsePositiveNumber(String(o['seconds']), '--seconds');
  const sloMs = parsePositiveNumber(String(o['sloMs']), '--slo-ms');
  const seed = parsePositiveInt(String(o['seed']), '--seed');
  const md = Boolean(o['markdown']);
  const results: Record<string, unknown> = { machine: 'shared 2-core VM', startedAt: new Date().toISOString(), capacity: CAPACITY };
  const say = (s: string) => io.stdout.write(`${s}\n`);

  if (phases.has('overhead')) results['overhead'] = await overhead(say, md);
  if (phases.has('policies') || phases.has('failover')) {
    const repos = await Promise.all(SLOWDOWNS.map((s) => writeReplicaRepository(DEVICE, s, MAX_BATCH, sloMs)));
    try {
      if (phases.has('policies')) {
        const trace = await loadTrace(String(o['codeTrace']), { column: 'TIMESTAMP' });
        results['policies'] = await policies(repos, String(o['policies']).split(','), seconds, sloMs, seed, trace.times, say, md);
      }
      if (phases.has('failover')) results['failover'] = await failover(repos, seed, say);
    } finally {
      await Promise.all(repos.map(removeRepository));
    }
  }
  if (typeof o['json'] === 'string') writeFileSync(String(o['json']), JSON.stringify(results, null, 1));
  return 0;
}

async function overhead(say: (s: string) => void, md: boolean) {
  const repo = await writeReplicaRepository(undefined, 1, 16);
  const replica = await startReplica(repo);
  const router = await startRouter([replica.url], 'round_robin');
  const routerMain = await startRouter([replica.url], 'round_robin', 'none', ['--forward-on', 'main']);
  try {
    const rows: { target: string; round: number; p50: number; p99: number; c1Rate: number; ceiling: number; routerCpuUsPerRequest?: number }[] = [];
    for (const url of [router.url, routerMain.url, replica.url]) await closedLoop(url, 4, 1);  // warm connections and JIT
    const targets = [['direct', replica.url, undefined], ['routed', router.url, router.pid], ['routed (main)', routerMain.url, routerMain.pid]] as const;
    for (let round = 1; round <= 3; round++) {
      for (const [target, url, pid] of targets) {
        const cpu0 = pid ? await cpuSeconds(pid) : 0;
        const c1 = await closedLoop(url, 1, 2);
        const cpu1 = pid ? await cpuSeconds(pid) : 0;
        const c16 = await closedLoop(url, 16, 2);
        rows.push({
          target, round, p50: percentile(c1.latencyMs, 50), p99: percentile(c1.latencyMs, 99), c1Rate: c1.rate, ceiling: c16.rate,
          ...(pid ? { routerCpuUsPerRequest: ((cpu1 - cpu0) / c1.latencyMs.length) * 1e6 } : {}),
        });
      }
    }
    const columns: Column<(typeof rows)[number]>[] = [
      { header: 'round', value: (r) => String(r.round) },
      { header: 'target', value: (r) => r.target, right: false },
      { header: 'c=1 p50 ms', value: (r) => fmt(r.p50) },
      { header: 'c=1 p99 ms', value: (r) => fmt(r.p99) },
      { header: 'router CPU us/req (c=1)', value: (r) => (r.routerCpuUsPerRequest === undefined ? '' : r.routerCpuUsPerRequest.toFixed(0)) },
      { header: 'c=16 req/s', value: (r) => r.ceiling.toFixed(0) },
    ];
    say('\n## overhead: one replica (fraud_mlp, no device emulation), direct vs routed, interleaved');
    say(renderTable(columns, rows, md));
    const med = (t: string, f: (r: (typeof rows)[number]) => number) => percentile(rows.filter((r) => r.target === t).map(f), 50);
    const added = med('routed', (r) => r.p50) - med('direct', (r) => r.p50);
    const addedMain = med('routed (main)', (r) => r.p50) - med('direct', (r) => r.p50);
    say(`router added latency at c=1 (median of rounds' p50): threads ${(added * 1000).toFixed(0)} us, main ${(addedMain * 1000).toFixed(0)} us ` +
      `(target < 100 us: ${Math.min(added, addedMain) < 0.1 ? 'met' : 'NOT met'}); throughput ceiling routed/direct: threads ` +
      `${(med('routed', (r) => r.ceiling) / med('direct', (r) => r.ceiling)).toFixed(2)}, main ${(med('routed (main)', (r) => r.ceiling) / med('direct', (r) => r.ceiling)).toFixed(2)}`);
    return { rows, addedP50Ms: added, addedP50MsMain: addedMain };
  } finally {
    await routerMain.stop();
    await router.stop();
    await replica.stop();
    await removeRepository(repo);
  }
}

function scenarioArrivals(name: string, seconds: number, seed: number, traceTimes: number[]): Float64Array {
  const s = Math.ceil(seconds);
  switch (name) {
    case 'low': return poissonFromRates(new Array(s).fill(0.3 * CAPACITY), seed);
    case 'burst': return poissonFromRates(burstRates(s, 0.25 * CAPACITY, 1.2 * CAPACITY, 1, 3), seed);
    case 'trace': return poissonFromRates(traceRates(traceTimes, s, 0.5 * CAPACITY), seed);
    default: return poissonFromRates(new Array(s).fill(1.3 * CAPACITY), seed);
  }
}

async function policies(repos: string[], names: string[], seconds: number, sloMs: number, seed: number, traceTimes: number[],
  say: (s: string) => void, md: boolean) {
  const replicas = await Promise.all(repos.map((r) => startReplica(r)));
  const rows: PolicyRow[] = [];
  try {
    // Overload runs twice: as is, and with the router's deadline admission shedding what would be late.
    for (const [scenario, admission] of [['low', 'none'], ['burst', 'none'], ['trace', 'none'], ['overload', 'none'], ['overload', 'deadline']] as const) {
      const arrivals = scenarioArrivals(scenario, seconds, seed, traceTimes);
      for (const policy of names) {
        const router = await startRouter(replicas.map((r) => r.url), policy, admission);
        try {
          await closedLoop(router.url, 8, 1);  // connections warm, every replica's latency profile measured
          const out = await openLoop(router.url, arrivals);
          rows.push(summarise(scenario, policy, admission, out, sloMs));
        } finally {
          await router.stop();
        }
      }
    }
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
  const columns: Column<PolicyRow>[] = [
    { header: 'scenario', value: (r) => r.scenario, right: false },
    { header: 'policy', value: (r) => r.policy, right: false },
    { header: 'admission', value: (r) => r.admission, right: false },
    { header: 'sent', value: (r) => String(r.sent) },
    { header: 'ok', value: (r) => String(r.ok) },
    { header: `within ${sloMs} ms`, value: (r) => fmtPercent(r.attainment) },
    { header: 'p50 ms', value: (r) => fmt(r.p50) },
    { header: 'p99 ms', value: (r) => fmt(r.p99) },
  ];
  say(`\n## policies: 4 replicas (device ${DEVICE} ms, slowdowns ${SLOWDOWNS.join(', ')}; ~${CAPACITY.toFixed(0)} req/s at full batches), same seeded arrivals per policy`);
  say(renderTable(columns, rows, md));
  return rows;
}

function summarise(scenario: string, policy: string, admission: string, out: Outcome, sloMs: number): PolicyRow {
  const ok = [...out.status.keys()].filter((i) => out.status[i] === 200);
  const within = ok.filter((i) => out.latencyMs[i]! <= sloMs).length;
  const lat = Float64Array.from(out.latencyMs.map((l, i) => (out.status[i] === 200 ? l : Infinity)));
  return { scenario, policy, admission, sent: out.status.length, ok: ok.length, attainment: within / out.status.length, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function failover(repos: string[], seed: number, say: (s: string) => void) {
  const replicas: Server[] = await Promise.all(repos.map((r) => startReplica(r, 0, true)));
  const router = await startRouter(replicas.map((r) => r.url), 'least_outstanding', 'none', ['--eject-after-failures', '1', '--slots-per-upstream', '1']);
  const victim = 1;
  const port = Number(new URL(replicas[victim]!.url).port);
  try {
    await closedLoop(router.url, 2, 0.5);
    const arrivals = poissonFromRates(new Array(8).fill(0.4 * CAPACITY), seed);
    const killAt = 2.5;
    const restartAt = 5;
    const load = openLoop(router.url, arrivals);
    await new Promise((r) => setTimeout(r, killAt * 1000));
    process.kill(replicas[victim]!.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, (restartAt - killAt) * 1000));
    replicas[victim] = await startReplica(repos[victim]!, port, true);
    const out = await load;
    const failed = [...out.status.keys()].filter((i) => out.status[i] !== 200);
    const byStatus: Record<string, number> = {};
    for (const i of failed) byStatus[String(out.status[i])] = (byStatus[String(out.status[i])] ?? 0) + 1;
    // One router slot per replica holds at most one batch of MAX_BATCH requests on the victim when it dies.
    const bound = MAX_BATCH;
    say(`\n## failover: replica ${victim} killed at ${killAt} s, restarted at ${restartAt} s (least_outstanding, 40% load)`);
    say(`sent ${out.status.length}, failed ${failed.length} ${JSON.stringify(byStatus)}; in flight on the dead replica at most ${bound} (one batch): ` +
      `${failed.length <= bound ? 'no accepted request lost beyond those' : 'MORE lost than were in flight on it'}`);
    return { sent: out.status.length, failed: failed.length, byStatus, inFlightBound: bound, killAt, restartAt };
  } finally {
    await router.stop();
    await Promise.all(replicas.map((r) => r.stop()));
  }
}
