/**
 * `npm run bench -- explain` (issue 13): one explanation of the bundled fraud model (128 features, 256 samples:
 * permutation SHAP, one antithetic pair) three ways, interleaved round by round in one runtime:
 *   (a) `rt.explain`: the rows as batched requests of 32 at low priority (the default);
 *   (b) the same, one request per row, all sent at once (the native batcher still batches them);
 *   (c) the same evaluations one by one, each awaited before the next (no batching at all).
 * Reports wall-clock and process CPU (all threads) per explanation, and checks that (c) gives the attribution (a) gave.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Runtime } from '../../src/index.js';
import { attribute, plan, walksFor } from '../../src/explain/permutation-shap.js';
import type { CliIo } from '../cli.js';
import { parsePositiveInt } from '../parse.js';
import type { CommandFactory } from './common.js';

interface Sample { wallMs: number; cpuMs: number }

export async function run(argv: string[], io: CliIo, command: CommandFactory): Promise<number> {
  const cmd = command('npm run bench -- explain')
    .description('explain fraud_mlp with 256 samples: batched through the runtime vs the same evaluations one by one, interleaved')
    .option('--model-repository <dir>', 'model repository', 'models')
    .option('--rounds <n>', 'explanations per variant (interleaved a b c a b c ...)', '30')
    .option('--samples <n>', 'evaluation budget per explanation', '256')
    .option('--quick', '10 rounds');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const rounds = o['quick'] ? 10 : parsePositiveInt(String(o['rounds']), '--rounds');
  const samples = parsePositiveInt(String(o['samples']), '--samples');
  const model = 'fraud_mlp';
  const rt = await Runtime.open({ modelRepository: String(o['modelRepository']), loadModels: [model] });
  try {
    const x = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    const inputs = { features: { data: x, dims: [1, 128] } };
    const p = plan(x, [new Float32Array(128)], walksFor(samples, 128, 1), 1);
    const variants: Record<string, () => Promise<number[]>> = {
      'rt.explain, batched requests of 32 rows, low priority': async () => (await rt.explain(model, inputs, { samples })).attributions,
      'rt.explain, one request per row, sent at once': async () => (await rt.explain(model, inputs, { samples, chunkRows: 1 })).attributions,
      'the same evaluations one by one (each awaited)': async () => {
        const values = new Float64Array(p.rowCount);
        for (let r = 0; r < p.rowCount; r++) {
          const out = await rt.inferUnaudited(model, { features: { data: p.rows.subarray(r * 128, (r + 1) * 128), dims: [1, 128] } });
          values[r] = Number(out['probability']!.data[0]);
        }
        return attribute(p, values, p.orders.map((_, w) => w)).attributions;
      },
    };
    const names = Object.keys(variants);
    const results = new Map<string, Sample[]>(names.map((n) => [n, []]));
    const attributions = new Map<string, number[]>();
    for (let round = -2; round < rounds; round++) { // two warm-up rounds
      for (const name of names) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const a = await variants[name]!();
        const wallMs = performance.now() - t0;
        const c = process.cpuUsage(cpu0);
        if (round >= 0) results.get(name)!.push({ wallMs, cpuMs: (c.user + c.system) / 1000 });
        attributions.set(name, a);
      }
    }
    const reference = attributions.get(names[0]!)!;
    const rows = names.map((name) => {
      const s = results.get(name)!;
      const wall = s.map((v) => v.wallMs).sort((a, b) => a - b);
      const maxDiff = Math.max(...attributions.get(name)!.map((v, i) => Math.abs(v - reference[i]!)));
      return { variant: name, p50Ms: pct(wall, 50), p90Ms: pct(wall, 90), cpuMs: s.reduce((a, v) => a + v.cpuMs, 0) / s.length, maxDiffFromBatched: maxDiff };
    });
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    const when = new Date().toISOString();
    const table = [
      `explain: ${model}, ${samples} samples (${p.rowCount} evaluations), ${rounds} rounds per variant, interleaved; ${when}, load average ${load}`,
      '',
      '| variant | p50 ms | p90 ms | process CPU ms | max abs difference from the batched attribution |',
      '|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.variant} | ${r.p50Ms.toFixed(2)} | ${r.p90Ms.toFixed(2)} | ${r.cpuMs.toFixed(2)} | ${r.maxDiffFromBatched.toExponential(1)} |`),
      '',
      `batched vs one by one: ${(rows[2]!.p50Ms / rows[0]!.p50Ms).toFixed(1)}x faster (p50); target < 50 ms: ${rows[0]!.p50Ms < 50 ? 'met' : 'NOT met'}`,
    ].join('\n');
    io.stdout.write(`${table}\n`);
    const file = o['quick'] ? join('bench', 'results', 'tmp', 'explain.json') : join('bench', 'results', 'explain.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ createdAt: when, loadAverage: loadavg(), model, samples, evaluations: p.rowCount, rounds, rows }, null, 2)}\n`);
    io.stdout.write(`\nwrote ${file}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
