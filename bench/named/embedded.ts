/**
 * `npm run bench -- embedded` (issue 2): on one model (fraud_mlp) at concurrency 1, 64 and 512, side by side in
 * one run, each variant in a fresh child process:
 *   (a) raw onnxruntime-node at its best batch size on one thread: the compute limit;
 *   (b) naive per-request `session.run` in process;
 *   (c) serval embedded (`Runtime.infer`).
 * Closed loop: this measures what each can sustain, with latency at that load.
 */
import type { CliIo } from '../cli.js';
import { parseConcurrencyList } from '../ranges.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import { parsePolicy } from '../policies.js';
import { addCommonOptions, type CommandFactory, finish, readCommonOptions, runTrials, type Trial } from './common.js';

export const SERIES = { raw: 'raw onnxruntime', naive: 'naive session.run', serval: 'serval embedded' } as const;

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addCommonOptions(command('npm run bench -- embedded'))
    .description('raw onnxruntime vs naive session.run vs serval embedded, closed loop, each in a fresh process')
    .option('--concurrency <list>', 'comma-separated concurrencies', '1,64,512')
    .option('--policy <name>', 'serval placement policy', 'least_outstanding');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const { modelRepository: repo, model, seed, timing: t } = c0;
  const policy = parsePolicy(String(o['policy']));
  const concurrencies = parseConcurrencyList(String(o['concurrency']));
  const timeoutMs = t.maxDurationMs + t.drainTimeoutMs + 120_000;
  const sweep = (series: string, target: Extract<Trial['spec'], { kind: 'sweep' }>['target'], c: number): Trial => ({
    label: `${series} c=${c}`,
    timeoutMs,
    spec: { kind: 'sweep', target, models: { kind: 'single', model }, load: { mode: 'concurrency', values: [c] }, step: c0.closedLoopStep, seed, inputData: { kind: 'random' }, series },
  });
  const trials: Trial[] = concurrencies.flatMap((c) => [
    { label: `${SERIES.raw} c=${c}`, timeoutMs, spec: { kind: 'raw-ort', modelRepository: repo, model, concurrency: c, durationMs: c0.quick ? 2000 : 6000, seed, series: SERIES.raw } },
    sweep(SERIES.naive, { kind: 'naive-inprocess', modelRepository: repo }, c),
    sweep(SERIES.serval, { kind: 'embedded', modelRepository: repo, policy }, c),
  ]);
  const { steps, failures } = await runTrials('embedded', trials, io, o['quiet'] === true);
  const notes = [
    `model ${model}; closed loop; ${SERIES.serval} uses policy ${policy}`,
    `${SERIES.raw}: onnxruntime-node, 1 intra-op thread, pre-built batches run back to back at the best batch size; a request's latency is ceil(concurrency / batch) x the batch's run time`,
    `${SERIES.naive}: one onnxruntime-node session (1 intra-op thread), one session.run per request, no batching`,
    `${SERIES.raw} best batch: ${steps.filter((s) => s.series === SERIES.raw).map((s) => `c=${s.value} → ${s.process}`).join(', ')}`,
    ...failures.map((f) => `FAILED ${f}`),
  ];
  return finish({
    name: 'embedded',
    title: `embedded: ${model}, ${SERIES.raw} vs ${SERIES.naive} vs ${SERIES.serval}`,
    quick: c0.quick,
    argv,
    settings: { modelRepository: repo, model, concurrencies, policy, timing: t, seed },
    steps,
    notes,
    extra: [
      [`ratios to ${SERIES.naive}`, renderRatios(steps, SERIES.naive), renderRatios(steps, SERIES.naive, true)],
      [`ratios to ${SERIES.raw} (the compute limit)`, renderRatios(steps, SERIES.raw), renderRatios(steps, SERIES.raw, true)],
    ],
    chart: sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps, ['throughput', 'p99'])]),
    opts: c0.output,
    io,
  });
}
