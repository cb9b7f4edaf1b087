/**
 * `npm run bench -- embedded` (issue 2): on one model (fraud_mlp) at concurrency 1, 64 and 512, side by side in
 * one run, each variant in a fresh child process:
 *   (a) raw onnxruntime-node at its best batch size on one thread: the compute limit;
 *   (b) naive per-request `session.run` in process;
 *   (c) serval embedded (`Runtime.infer`).
 * Closed loop: this measures what each can sustain, with latency at that load.
 */
import type { CliIo } from '../cli.js';
import { comparisonBarsSpec, latencyThroughputSpec, sideBySide } from '../report/chart.js';
import { renderRatios } from '../report/compare.js';
import {
  addClosedLoopOptions,
  addCommonOptions,
  closedLoopTimeoutMs,
  closedLoopTrial,
  type CommandFactory,
  finish,
  readClosedLoopOptions,
  readCommonOptions,
  runTrials,
  type Trial,
} from './common.js';

export const SERIES = { raw: 'raw onnxruntime', naive: 'naive session.run', serval: 'serval embedded' } as const;

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = addClosedLoopOptions(addCommonOptions(command('npm run bench -- embedded')), '1,64,512').description(
    'raw onnxruntime vs naive session.run vs serval embedded, closed loop, each in a fresh process',
  );
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const c0 = readCommonOptions(o);
  const { modelRepository: repo, model, seed, timing: t } = c0;
  const { concurrencies, policy } = readClosedLoopOptions(o);
  const timeoutMs = closedLoopTimeoutMs(c0);
  const trials: Trial[] = concurrencies.flatMap((c) => [
    { label: `${SERIES.raw} c=${c}`, timeoutMs, spec: { kind: 'raw-ort', modelRepository: repo, model, concurrency: c, durationMs: c0.quick ? 2000 : 6000, seed, series: SERIES.raw } },
    { label: `${SERIES.naive} c=${c}`, timeoutMs, spec: closedLoopTrial(c0, { kind: 'naive-inprocess', modelRepository: repo }, SERIES.naive, c) },
    { label: `${SERIES.serval} c=${c}`, timeoutMs, spec: closedLoopTrial(c0, { kind: 'embedded', modelRepository: repo, policy }, SERIES.serval, c) },
  ]);
  const { steps, failures } = await runTrials('embedded', trials, io, o['quiet'] === true, c0.repeat);
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
