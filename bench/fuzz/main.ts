#!/usr/bin/env node
/**
 * `npm run fuzz -- [--seconds N] [--seed S] [--embedded-share F]`: the long fuzz run. Runs every decoder
 * property and the embedded `infer` property in chunks of fresh seeds until the time budget is spent, timing
 * every input (one that takes over HANG_MS is a hang), and prints per property: inputs run, seconds, slowest
 * input, failures (with the counterexample and seed to replay). Exits 1 on any failure or hang.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { buildScalarIo } from '../../src/model-generator/onnx/scalar-io.js';
import { Runtime } from '../../src/runtime.js';
import { DECODER_CASES, embeddedInferProperty } from './properties.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HANG_MS = 2000;
const CHUNK = 5000;

interface Summary { property: string; inputs: number; seconds: number; slowestMs: number; failures: string[] }

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'embedded-share': { type: 'string', default: '0.2' },
  },
});
const budgetS = Number(values.seconds);
const seed0 = Number(values.seed);
const embeddedShare = Number(values['embedded-share']);

function runDecoderCase(c: (typeof DECODER_CASES)[number], seconds: number): Summary {
  const s: Summary = { property: c.name, inputs: 0, seconds: 0, slowestMs: 0, failures: [] };
  const timed = (input: never) => {
    const t0 = performance.now();
    try {
      c.check(input);
    } finally {
      const ms = performance.now() - t0;
      s.slowestMs = Math.max(s.slowestMs, ms);
      if (ms > HANG_MS) s.failures.push(`hang: one input took ${ms.toFixed(0)} ms`);
    }
  };
  const start = performance.now();
  for (let chunk = 0; (performance.now() - start) / 1000 < seconds && s.failures.length === 0; chunk++) {
    const seed = seed0 + chunk;
    const r = fc.check(fc.property(c.arb, timed), { seed, numRuns: CHUNK });
    s.inputs += r.numRuns;
    if (r.failed) s.failures.push(`seed ${seed}: ${fc.defaultReportMessage(r) ?? 'failed'}`);
  }
  s.seconds = (performance.now() - start) / 1000;
  return s;
}

async function runEmbedded(seconds: number): Promise<Summary & { accepted: number }> {
  const root = mkdtempSync(join(tmpdir(), 'serval-fuzz-'));
  mkdirSync(join(root, 'scalar_io', '1'), { recursive: true });
  writeFileSync(join(root, 'scalar_io', '1', 'model.onnx'), buildScalarIo());
  const rt = await Runtime.open({ modelRepository: root });
  const tally = { accepted: 0, rejected: 0 };
  const s = { property: 'embedded infer arguments (scalar_io)', inputs: 0, seconds: 0, slowestMs: 0, failures: [] as string[], accepted: 0 };
  const start = performance.now();
  try {
    for (let chunk = 0; (performance.now() - start) / 1000 < seconds && s.failures.length === 0; chunk++) {
      const seed = seed0 + chunk;
      const r = await fc.check(embeddedInferProperty(rt, tally), { seed, numRuns: 1000 });
      s.inputs += r.numRuns;
      if (r.failed) s.failures.push(`seed ${seed}: ${fc.defaultReportMessage(r) ?? 'failed'}`);
    }
  } finally {
    await rt.close();
    rmSync(root, { recursive: true, force: true });
  }
  s.seconds = (performance.now() - start) / 1000;
  s.accepted = tally.accepted;
  return s;
}

const decoderSeconds = (budgetS * (1 - embeddedShare)) / DECODER_CASES.length;
const results: Summary[] = DECODER_CASES.map((c) => runDecoderCase(c, decoderSeconds));
results.push(await runEmbedded(budgetS * embeddedShare));

const total = results.reduce((n, r) => n + r.inputs, 0);
console.log(`serval fuzz: seed ${seed0}, ${total} inputs in ${results.reduce((n, r) => n + r.seconds, 0).toFixed(1)} s`);
for (const r of results) {
  const detail = 'accepted' in r ? `${(r as { accepted: number }).accepted} accepted` : `slowest input ${r.slowestMs.toFixed(1)} ms`;
  console.log(`  ${r.property}: ${r.inputs} inputs (${detail}), ${r.seconds.toFixed(1)} s, ${r.failures.length} failures`);
  for (const f of r.failures) console.log(`    ${f.split('\n').slice(0, 12).join('\n    ')}`);
}
console.log(JSON.stringify({ seed: seed0, totalInputs: total, results }));
process.exitCode = results.some((r) => r.failures.length > 0) ? 1 : 0;
