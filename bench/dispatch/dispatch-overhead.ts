/**
 * Why serval owns its executor threads instead of running batches as piscina tasks: the cost of moving
 * work to another thread and the result back, with no model at all.
 *
 * (a) piscina: one pool thread; each request is a task (postMessage in, result back, promise settled).
 * (b) serval: native enqueue → executor thread pulls the batch from native code → completes → one
 *     ThreadSafeFunction call settles every finished promise.
 * Measured at concurrency 1 (per-request latency of the hop) and 64 (throughput), median of 5 runs.
 *
 * Run: `npm run bench -- dispatch` (or `node dist/bench/dispatch/dispatch-overhead.js`).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { loadAddon } from '../../src/binding.js';
import { CompletionTable, HEADER } from '../../src/model/completion-table.js';

const REQUESTS = 20_000;
const RUNS = 5;

type Submit = (x: Float32Array) => Promise<unknown>;

async function measure(submit: Submit, concurrency: number): Promise<{ perSecond: number; meanUs: number }> {
  const x = new Float32Array(16);
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < REQUESTS) {
      issued++;
      await submit(x);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: REQUESTS / seconds, meanUs: (seconds * 1e6 * concurrency) / REQUESTS };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Point { perSecond: number; meanUs: number }

async function point(submit: Submit, concurrency: number): Promise<Point> {
  await measure(submit, concurrency);  // warm-up
  const runs: Point[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(submit, concurrency));
  return { perSecond: median(runs.map((r) => r.perSecond)), meanUs: median(runs.map((r) => r.meanUs)) };
}

async function runAll(name: string, submit: Submit): Promise<{ name: string; c1: Point; c64: Point }> {
  return { name, c1: await point(submit, 1), c64: await point(submit, 64) };
}

/** Runs the benchmark, prints JSON and a markdown table; returns the exit code. */
export async function run(): Promise<number> {
  const pool = new Piscina({ filename: fileURLToPath(new URL('./piscina-echo.js', import.meta.url)), minThreads: 1, maxThreads: 1 });
  const piscina = await runAll('piscina task per request', (x) => pool.run(x));
  await pool.destroy();

  const addon = loadAddon();
  const table = new CompletionTable(addon.buildInfo().statusCodes);
  const rt = new addon.NativeRuntime(table.complete, table.header);
  const model = rt.createModel({
    name: 'echo', version: 1, maxBatchSize: 64,
    inputs: [{ name: 'x', dtype: 11, dims: [16] }], outputs: [{ name: 'y', dtype: 11, dims: [16] }],
    preferredBatchSizes: [], maxQueueDelayUs: 0, idleSpinUs: 0, priorityLevels: 1, defaultPriorityLevel: 1,
    queuePolicies: [{ delayOnTimeout: false, defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0 }],
    instances: [{ kind: 'CPU', device: 0 }], policy: 'round_robin',
  });
  const worker = new Worker(fileURLToPath(new URL('./echo-executor.js', import.meta.url)), { workerData: { token: model.executorToken(0) } });
  const h = table.header;
  const serval = await runAll('serval native pull + batching', (x) => {
    const { slot, promise } = table.open(['y']);
    h.set([slot, 1, 0, 0, -1, 0, 0, 2, 1, 16], HEADER.slot);
    const placed = model.enqueue(x);
    if (typeof placed !== 'number') table.refuse(slot, new Error(placed.message));
    return promise;
  });
  model.close(true);
  await new Promise((r) => worker.once('exit', r));
  rt.shutdown();

  const rows = [piscina, serval];
  console.log(JSON.stringify({ bench: 'dispatch-overhead', requests: REQUESTS, runs: RUNS, results: rows }));
  console.log('\n| dispatch path | c=1 req/s | c=1 mean µs | c=64 req/s |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.c1.perSecond.toFixed(0)} | ${r.c1.meanUs.toFixed(1)} | ${r.c64.perSecond.toFixed(0)} |`);
  console.log(`\nratio serval/piscina: c=1 ${(serval.c1.perSecond / piscina.c1.perSecond).toFixed(2)}x, c=64 ${(serval.c64.perSecond / piscina.c64.perSecond).toFixed(2)}x`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void run();
