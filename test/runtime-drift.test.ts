/**
 * Drift monitoring on the live runtime: config parameters turn it on, a reference file replaces the first
 * requests as the reference, a shifted input raises a `drift` event and shows in `stats()`; a bad reference
 * file makes the model unavailable with the file named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, type RuntimeEvent } from '../src/index.js';
import { mulberry32, normalSamples } from '../src/model-generator/onnx/prng.js';
import { rolloutScorerConfig, writeRolloutModel } from '../src/model-generator/rollout-repository.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const param = (k: string, v: string) => `parameters { key: "${k}" value { string_value: "${v}" } }`;

function repo(extra: string, reference?: unknown): string {
  const root = mkdtempSync(join(tmpdir(), 'serval-drift-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  writeRolloutModel(root, 's', { 1: {} }, rolloutScorerConfig(extra));
  if (reference !== undefined) writeFileSync(join(root, 's', 'reference.json'), JSON.stringify(reference));
  return root;
}

describe('drift monitoring on the runtime', () => {
  it('takes its reference from a file and flags the shifted input feature on the first window', async () => {
    const rng = mulberry32(4);
    const rows = Array.from({ length: 400 }, () => Array.from(normalSamples(rng, 4, 1)));
    const root = repo([param('drift_reference_file', 'reference.json'), param('drift_window_requests', '200')].join('\n'), { x: rows });
    const events: RuntimeEvent[] = [];
    const rt = await Runtime.open({ modelRepository: root, onEvent: (e) => events.push(e) });
    cleanups.push(() => rt.close());
    for (let i = 0; i < 200; i++) {
      const x = normalSamples(rng, 4, 1);
      x[2]! += 1;
      await rt.infer('s', { x: { data: x, dims: [1, 4] } });
    }
    const drift = events.filter((e) => e.kind === 'drift') as Extract<RuntimeEvent, { kind: 'drift' }>[];
    expect(drift.map((e) => [e.tensor, e.tensorKind, e.feature])).toContainEqual(['x', 'input', 2]);
    expect(drift.filter((e) => e.tensorKind === 'input').map((e) => e.feature)).toEqual([2]);
    const stats = rt.stats().models[0]!.drift!;
    expect(stats).toMatchObject({ model: 's', version: 1, sampledRows: 200 });
    expect(stats.features.find((f) => f.tensor === 'x' && f.feature === 2)).toMatchObject({ drifted: true });
  });

  it('a reference file that is not valid makes the model unavailable, naming the file (bad input)', async () => {
    const root = repo(param('drift_reference_file', 'reference.json'), { x: [[1, 2]] });
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    expect(rt.models()[0]).toMatchObject({ state: 'UNAVAILABLE' });
    expect(rt.models()[0]!.reason).toMatch(/drift_reference_file "reference.json": tensor 'x' must have at least 10 rows/);
  });

  it('a reference file outside the model directory is refused (bad input)', async () => {
    const root = repo(param('drift_reference_file', '../../etc/passwd'));
    const rt = await Runtime.open({ modelRepository: root });
    cleanups.push(() => rt.close());
    expect(rt.models()[0]!.reason).toMatch(/must be inside the model directory/);
  });
});
