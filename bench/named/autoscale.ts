/**
 * `npm run bench -- autoscale`: serval's autoscaling signal (serval_slo_capacity_utilization, target 0.8)
 * against the CPU-utilisation HPA (targets 0.5 and 0.8), both with the HPA's arithmetic and its 300 s
 * scale-down stabilisation, over the bundled trace's shape and synthetic bursts, simulated window by window
 * in serval's native simulator (bench/autoscale/cluster-sim.ts). Replicas follow a measured latency profile
 * (bench/results/placement-profile.json, image_cnn) slowed to a chosen SLO capacity per replica.
 * Reports replica-seconds spent and SLO attainment per autoscaler.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from '../cli.js';
import { invalidArgument } from '../errors.js';
import { parsePositiveInt, parsePositiveNumber } from '../parse.js';
import { fmtPercent } from '../report/format.js';
import { renderTable, type Column } from '../report/table.js';
import { CODE_TRACE } from '../scenarios.js';
import { loadTrace } from '../trace.js';
import { latencyCurveUs, validateProfile } from '../../src/placement/profile-file.js';
import { capacityPerSecond } from '../../src/placement/sim-scenario.js';
import { PACKAGE_ROOT } from '../../src/binding.js';
import { burstRates, poissonFromRates, traceRates } from '../autoscale/arrival-shapes.js';
import { simulateFleet, type FleetRun, type ReplicaModel } from '../autoscale/cluster-sim.js';
import type { CommandFactory } from './common.js';

interface Row { scenario: string; autoscaler: string; replicaSeconds: number; attainment: number; peak: number; meanReplicas: number }

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = command('npm run bench -- autoscale')
    .description("serval's SLO-capacity autoscaling signal vs the CPU-utilisation HPA, simulated over the trace and bursts")
    .option('--duration <s>', 'simulated seconds per scenario (trace: its shape compressed or stretched to this; 0 = the trace at its own pace)', '0')
    .option('--replica-capacity <rps>', 'requests per second one replica serves within the SLO', '200')
    .option('--mean-replicas <n>', 'mean load, in replicas at full SLO capacity', '3')
    .option('--startup <s>', 'seconds from pod creation to ready', '30')
    .option('--cpu-targets <list>', 'CPU-utilisation HPA targets to compare (comma-separated fractions)', '0.3,0.5,0.8')
    .option('--slo-targets <list>', 'serval SLO-capacity targets to compare', '0.5,0.8,1.0')
    .option('--seed <n>', 'arrival seed', '1')
    .option('--code-trace <file>', 'the trace whose shape is replayed', CODE_TRACE);
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  const durationArg = Number(o['duration']);
  if (!(durationArg >= 0)) throw invalidArgument(`--duration must be a number of seconds >= 0, got '${String(o['duration'])}'`);
  const replicaCapacity = parsePositiveNumber(String(o['replicaCapacity']), '--replica-capacity');
  const meanReplicas = parsePositiveNumber(String(o['meanReplicas']), '--mean-replicas');
  const startupS = parsePositiveNumber(String(o['startup']), '--startup');
  const seed = parsePositiveInt(String(o['seed']), '--seed');

  // The measured image_cnn curve, slowed so a replica serves `replicaCapacity` within an SLO of 10 x l(1).
  const profile = validateProfile(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'bench', 'results', 'placement-profile.json'), 'utf8')), 'placement-profile.json');
  const m = profile.models['image_cnn']!;
  const measured = latencyCurveUs(m.instances[0]!, m.maxBatchSize);
  const sloAt = (curve: number[]) => (10 * curve[0]!) / 1000;
  const slowdown = capacityPerSecond([measured], sloAt(measured)) / replicaCapacity;
  const curve = measured.map((us) => us * slowdown);
  const model: ReplicaModel = { latencyUs: curve, instancesPerReplica: 1, maxBatchSize: m.maxBatchSize, sloMs: sloAt(curve), sloCapacity: replicaCapacity };

  const mean = meanReplicas * replicaCapacity;
  const trace = await loadTrace(String(o['codeTrace']), { column: 'TIMESTAMP' });
  const durationS = durationArg > 0 ? durationArg : Math.ceil(trace.spanSeconds);
  const scenarios = {
    trace: poissonFromRates(traceRates(trace.times, durationS, mean), seed),
    bursts: poissonFromRates(burstRates(durationS, mean * 0.6, mean * 3, 60, 240), seed),
  };
  const hpa = { minReplicas: 1, maxReplicas: 60, startupS, scaleDownStabilizationS: 300, syncPeriodS: 15 };
  const targets = (flag: string) => String(o[flag]).split(',').map((x) => parsePositiveNumber(x.trim(), `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
  const initialReplicas = Math.ceil(meanReplicas);
  const autoscalers: [string, FleetRun][] = [
    ...targets('cpuTargets').map((target): [string, FleetRun] => [`CPU HPA, target ${target * 100}%`, { metric: 'cpu', hpa: { ...hpa, target }, initialReplicas }]),
    ...targets('sloTargets').map((target): [string, FleetRun] => [`serval SLO capacity, target ${target}`, { metric: 'slo_capacity', hpa: { ...hpa, target }, initialReplicas }]),
  ];
  const rows: Row[] = [];
  const timelines: Record<string, unknown> = {};
  for (const [scenario, arrivals] of Object.entries(scenarios)) {
    for (const [name, spec] of autoscalers) {
      const r = simulateFleet(model, arrivals, spec, 'least_outstanding', seed);
      rows.push({ scenario, autoscaler: name, replicaSeconds: r.replicaSeconds, attainment: r.attainment, peak: r.peakReplicas, meanReplicas: r.replicaSeconds / durationS });
      timelines[`${scenario} / ${name}`] = r.timeline;
      if (!o['quiet']) io.stderr.write(`${scenario} / ${name}: done\n`);
    }
  }
  const columns: Column<Row>[] = [
    { header: 'scenario', value: (r) => r.scenario, right: false },
    { header: 'autoscaler', value: (r) => r.autoscaler, right: false },
    { header: 'replica-seconds', value: (r) => r.replicaSeconds.toFixed(0) },
    { header: 'mean replicas', value: (r) => r.meanReplicas.toFixed(2) },
    { header: 'peak', value: (r) => String(r.peak) },
    { header: 'SLO attainment', value: (r) => fmtPercent(r.attainment) },
  ];
  io.stdout.write(`replica: image_cnn profile x ${slowdown.toFixed(0)} (l(1) ${(curve[0]! / 1000).toFixed(1)} ms), SLO ${model.sloMs.toFixed(0)} ms, ` +
    `${replicaCapacity} req/s within the SLO; mean load ${mean} req/s; ${durationS} s per scenario; pods ready ${startupS} s after creation\n`);
  io.stdout.write(`${renderTable(columns, rows, Boolean(o['markdown']))}\n`);
  if (typeof o['json'] === 'string') writeFileSync(String(o['json']), JSON.stringify({ model: { ...model, slowdown }, rows, timelines }));
  return 0;
}
