/**
 * Baseline (a) of the `embedded` benchmark, the compute limit: onnxruntime-node in process, one intra-op
 * thread, the model run back to back on pre-built batches, at the batch size that gives the most
 * throughput among powers of two up to min(concurrency, max_batch_size). No queue, no copies, no JS per
 * request: nothing serving-related is charged to it.
 *
 * With `concurrency` requests outstanding and batches of b run one after another, every request waits for
 * ⌈concurrency / b⌉ runs, so a request's latency is taken as ⌈concurrency / b⌉ × the run's time.
 */
import { buildRequests } from '../inputs.js';
import { MeasurementWindow } from '../load/recorder.js';
import type { StepResult } from '../report/types.js';
import { Rng } from '../rng.js';
import { summarizeWindows } from '../stats/summary.js';
import { loadOrtModel, toFeeds } from './ort-models.js';

export interface RawOrtOptions {
  modelRepository: string;
  model: string;
  concurrency: number;
  /** Time spent measuring all batch sizes together. */
  durationMs: number;
  seed: number;
  series?: string;
}

export function candidateBatchSizes(concurrency: number, maxBatchSize: number | undefined): number[] {
  const cap = maxBatchSize === 0 ? 1 : Math.min(concurrency, maxBatchSize ?? concurrency);
  const sizes: number[] = [];
  for (let b = 1; b < cap; b *= 2) sizes.push(b);
  sizes.push(cap);
  return sizes;
}

export async function measureRawOrt(options: RawOrtOptions): Promise<StepResult> {
  const model = await loadOrtModel(options.modelRepository, options.model, 1);
  try {
    const sizes = candidateBatchSizes(options.concurrency, model.maxBatchSize);
    const perSize = options.durationMs / sizes.length;
    let best: { batch: number; runsMs: number[]; elapsedMs: number } | undefined;
    for (const batch of sizes) {
      const shapes = Object.fromEntries(model.info.inputs.map((i) => [i.name, i.shape.map((d, k) => (k === 0 && d < 0 ? batch : d < 0 ? 1 : d))]));
      const [request] = await buildRequests(model.info, { kind: 'random' }, new Rng(options.seed), { count: 1, shapes });
      const feeds = toFeeds(request);
      for (let i = 0; i < 10; i++) await model.session.run(feeds);
      const runsMs: number[] = [];
      const start = performance.now();
      while (performance.now() - start < perSize) {
        const t = performance.now();
        await model.session.run(feeds);
        runsMs.push(performance.now() - t);
      }
      const elapsedMs = performance.now() - start;
      const rate = (b: { batch: number; runsMs: number[]; elapsedMs: number }) => (b.batch * b.runsMs.length) / b.elapsedMs;
      const candidate = { batch, runsMs, elapsedMs };
      if (!best || rate(candidate) > rate(best)) best = candidate;
    }
    const { batch, runsMs, elapsedMs } = best!;
    // One window covering the winning batch size's runs: every run completes `batch` requests.
    const window = new MeasurementWindow(0, 0, elapsedMs, 1);
    const waits = Math.ceil(options.concurrency / batch);
    for (const ms of runsMs) window.cells[0].latency.recordMs(ms * waits, batch);
    window.cells[0].arrivals = runsMs.length * batch;
    window.completedOk = runsMs.length * batch;
    return {
      series: options.series ?? 'raw onnxruntime',
      mode: 'concurrency',
      value: options.concurrency,
      process: `batch ${batch}`,
      models: [options.model],
      stable: true,
      ...summarizeWindows([window], elapsedMs, [options.model]),
    };
  } finally {
    await model.session.release();
  }
}
