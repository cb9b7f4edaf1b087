/**
 * `npm run bench -- pipeline [--seconds 2] [--reps 2] [--concurrency 1,64,256] [--only pipeline|cache]`
 *
 * (1) The 3-step fraud pipeline (JS preprocessor → fraud_mlp → JS postprocessor), side by side, interleaved:
 *     - naive: the same three steps made one by one from JavaScript on the main thread (the preprocessor's and
 *       postprocessor's own execute() functions and one onnxruntime session.run per request: no serval);
 *     - serval, 3 calls: the caller chains rt.infer() on the three models itself;
 *     - serval ensemble: one rt.infer('fraud_pipeline').
 *     Ensemble overhead per step = (ensemble p50 - 3-call p50) / 3 at concurrency 1.
 * (2) The response cache on fraud_mlp: hit latency at concurrency 1 (every request a hit) against the same model
 *     uncached, and throughput at 90% hits (a pool of hot inputs, warmed first, and fresh random inputs).
 *
 * Prints JSON (one object per trial) and markdown tables, with the load average before and after.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Runtime } from '../../src/index.js';
import { BUNDLED_REPOSITORY } from '../../src/model-generator/generate.js';
import type { JsModelModule } from '../../src/js-backend/js-model-api.js';
import { closedLoop, medianTrial, type TrialResult } from './closed-loop.js';

const PIPELINE = ['fraud_preprocess', 'fraud_mlp', 'fraud_postprocess', 'fraud_pipeline'];

/** A temporary repository: the pipeline's models, and fraud_mlp_cached (fraud_mlp with response_cache on). */
function benchRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'serval-pipeline-bench-'));
  for (const name of PIPELINE) cpSync(join(BUNDLED_REPOSITORY, name), join(root, name), { recursive: true });
  cpSync(join(BUNDLED_REPOSITORY, 'fraud_mlp', '1'), join(root, 'fraud_mlp_cached', '1'), { recursive: true });
  const config = readFileSync(join(BUNDLED_REPOSITORY, 'fraud_mlp', 'config.pbtxt'), 'utf8').replace('name: "fraud_mlp"', 'name: "fraud_mlp_cached"');
  writeFileSync(join(root, 'fraud_mlp_cached', 'config.pbtxt'), `${config}\nresponse_cache { enable: true }\n`);
  return root;
}

function transaction(i: number): string {
  return JSON.stringify({
    amount: 10 + (i % 997), avg_amount_30d: 80, hour: i % 24, merchant_category: ['grocery', 'electronics', 'travel'][i % 3],
    country: i % 7 === 0 ? 'US' : 'KR', card_age_days: 30 + (i % 400), tx_count_24h: i % 9, is_online: i % 2 === 0,
  });
}

async function naivePipeline(): Promise<{ send: (i: number) => Promise<unknown>; close: () => Promise<void> }> {
  const load = async (name: string) => (await import(pathToFileURL(join(BUNDLED_REPOSITORY, name, '1', 'model.mjs')).href)) as JsModelModule;
  const pre = await load('fraud_preprocess');
  const post = await load('fraud_postprocess');
  const config = { parameters: { review_threshold: '0.5', decline_threshold: '0.8' } };
  await post.initialize?.({ config: config as never, versionDir: '' });
  const session = await ort.InferenceSession.create(join(BUNDLED_REPOSITORY, 'fraud_mlp', '1', 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const send = async (i: number) => {
    const f = (await pre.execute({ size: 1, inputs: { transaction: { type: 'BYTES', dims: [1, 1], data: [transaction(i)] } }, requestedOutputs: [] }));
    const { probability } = await session.run({ features: new ort.Tensor('float32', f['features']!.data as Float32Array, [1, 128]) });
    return post.execute({
      size: 1, requestedOutputs: [],
      inputs: { probability: { type: 'FP32', dims: [1, 1], data: probability!.data as Float32Array }, parse_error: { type: 'BYTES', dims: [1, 1], data: f['parse_error']!.data } },
    });
  };
  return { send, close: () => session.release() };
}

function chained(rt: Runtime) {
  return async (i: number) => {
    const pre = await rt.infer('fraud_preprocess', { transaction: { data: [transaction(i)], dims: [1, 1] } });
    const mlp = await rt.infer('fraud_mlp', { features: pre['features']! });
    return rt.infer('fraud_postprocess', { probability: mlp['probability']!, parse_error: pre['parse_error']! });
  };
}

const ensemble = (rt: Runtime) => (i: number) => rt.infer('fraud_pipeline', { transaction: { data: [transaction(i)], dims: [1, 1] } });

function table(title: string, rows: TrialResult[]): void {
  console.log(`\n${title}\n\n| series | concurrency | req/s | p50 µs | p99 µs | CPU µs/req | requests | failed |\n|---|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    console.log(`| ${r.series} | ${r.concurrency} | ${r.perSecond.toFixed(0)} | ${r.p50Us.toFixed(0)} | ${r.p99Us.toFixed(0)} | ${r.cpuUsPerRequest.toFixed(0)} | ${r.requests} | ${r.failed} |`);
  }
}

async function pipelineTrials(rt: Runtime, concurrencies: number[], seconds: number, reps: number): Promise<TrialResult[]> {
  const naive = await naivePipeline();
  const series: [string, (i: number) => Promise<unknown>][] = [['naive (3 steps on the main thread)', naive.send], ['serval, 3 calls from JS', chained(rt)], ['serval ensemble', ensemble(rt)]];
  const out: TrialResult[] = [];
  for (const c of concurrencies) {
    for (const [, send] of series) await closedLoop('warmup', c, 0.3, send);
    const trials = new Map<string, TrialResult[]>();
    for (let rep = 0; rep < reps; rep++) {
      for (const [name, send] of series) {
        const t = await closedLoop(name, c, seconds, send);
        console.log(JSON.stringify({ bench: 'pipeline', rep, load: loadavg()[0], ...t }));
        trials.set(name, [...(trials.get(name) ?? []), t]);
      }
    }
    for (const [name] of series) out.push(medianTrial(trials.get(name)!));
  }
  await naive.close();
  return out;
}

async function cacheTrials(rt: Runtime, seconds: number, reps: number): Promise<TrialResult[]> {
  const random = (seed: number) => Float32Array.from({ length: 128 }, (_, k) => Math.sin(seed * 131 + k));
  const hot = Array.from({ length: 1000 }, (_, i) => random(i));
  const input = (x: Float32Array) => ({ features: { data: x, dims: [1, 128] } });
  for (const x of hot) await rt.infer('fraud_mlp_cached', input(x));  // warm the cache
  let fresh = 1e6;
  const mixed = (model: string) => (i: number) => rt.infer(model, input(i % 10 === 9 ? random(fresh++) : hot[i % hot.length]!));
  const allHits = (model: string) => (i: number) => rt.infer(model, input(hot[i % hot.length]!));
  const runs: [string, number, (i: number) => Promise<unknown>][] = [
    ['no cache, c=1', 1, allHits('fraud_mlp')], ['cache, 100% hits, c=1', 1, allHits('fraud_mlp_cached')],
    ['no cache, c=1, hot/fresh mix', 1, mixed('fraud_mlp')], ['cache, 90% hits, c=1', 1, mixed('fraud_mlp_cached')],
    ['no cache, c=64, hot/fresh mix', 64, mixed('fraud_mlp')], ['cache, 90% hits, c=64', 64, mixed('fraud_mlp_cached')],
  ];
  const trials = new Map<string, TrialResult[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, c, send] of runs) {
      const t = await closedLoop(name, c, seconds, send);
      console.log(JSON.stringify({ bench: 'response-cache', rep, load: loadavg()[0], ...t }));
      trials.set(name, [...(trials.get(name) ?? []), t]);
    }
  }
  const cacheStats = rt.stats().models.find((m) => m.name === 'fraud_mlp_cached')?.cache;
  console.log(JSON.stringify({ bench: 'response-cache', cache: cacheStats }));
  return runs.map(([name]) => medianTrial(trials.get(name)!));
}

export async function run(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string', default: '2' }, reps: { type: 'string', default: '2' }, concurrency: { type: 'string', default: '1,64,256' }, only: { type: 'string' } },
  });
  const seconds = Number(values.seconds);
  const reps = Number(values.reps);
  const concurrencies = values.concurrency!.split(',').map(Number);
  const root = benchRepository();
  const loadBefore = loadavg()[0]!.toFixed(2);
  const rt = await Runtime.open({ modelRepository: root, cache: { sizeBytes: 64 << 20 } });
  try {
    if (values.only !== 'cache') {
      const rows = await pipelineTrials(rt, concurrencies, seconds, reps);
      table(`Pipeline (median of ${reps} interleaved ${seconds}s trials; load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after)`, rows);
      const at = (series: string, c: number) => rows.find((r) => r.series.startsWith(series) && r.concurrency === c);
      const e1 = at('serval ensemble', 1);
      const c1 = at('serval, 3 calls', 1);
      if (e1 && c1) console.log(`\nensemble overhead per step at c=1: ${((e1.p50Us - c1.p50Us) / 3).toFixed(1)} µs (p50), ${((e1.cpuUsPerRequest - c1.cpuUsPerRequest) / 3).toFixed(1)} µs CPU`);
      for (const c of concurrencies) {
        const e = at('serval ensemble', c);
        const n = at('naive', c);
        if (e && n) console.log(`c=${c}: ensemble ${(e.perSecond / n.perSecond).toFixed(2)}x naive throughput`);
      }
    }
    if (values.only !== 'pipeline') table(`Response cache on fraud_mlp (median of ${reps} interleaved ${seconds}s trials; load average now ${loadavg()[0]!.toFixed(2)})`, await cacheTrials(rt, seconds, reps));
  } finally {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  }
  return 0;
}
