/**
 * Embedded API: input typed arrays whose memory can change or vanish under a queued request. Inputs are
 * copied when the request is accepted, so a SharedArrayBuffer written, a resizable buffer shrunk, or a
 * buffer transferred away (and freed) while the request is queued changes nothing; a buffer detached before
 * the call is rejected with INVALID_ARGUMENT. These cases crashed the process (abort, segfault), so they run
 * in a child process (with --expose-gc, to free a transferred buffer on demand) whose exit code is checked.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReshapeByInput } from '../src/model-generator/onnx/reshape-by-input.js';
import { ROOT } from './fixtures/serval-process.js';
import { makeRepo, slowIdentityConfig } from './helpers/temp-repo.js';

const INDEX = pathToFileURL(join(ROOT, 'dist', 'src', 'index.js')).href;

// Runs in the child: every case prints one JSON line { case, outcome }.
const CHILD = `
import { Runtime } from ${JSON.stringify(INDEX)};
const rt = await Runtime.open({ modelRepository: process.argv[2], loadModels: ['slow', 'reshape'] });
const report = (c, outcome) => console.log(JSON.stringify({ case: c, outcome }));
const settle = (p) => p.then((r) => ({ y: Array.from(r.y.data) }), (e) => ({ code: e.code ?? e.name }));
const call = (data) => { try { return settle(rt.infer('slow', { x: { data, dims: [1, 4] } })); } catch (e) { return Promise.resolve({ code: e.code ?? e.name }); } };

// SharedArrayBuffer: served, with the values it held when the request was made.
const shared = new Float32Array(new SharedArrayBuffer(16));
shared.set([1, 2, 3, 4]);
const sharedResult = call(shared);
shared.fill(-1);
report('shared', await sharedResult);

// Resizable ArrayBuffer shrunk to 0 while the request is queued behind busy ones.
const busy = Array.from({ length: 6 }, () => call(new Float32Array([9, 9, 9, 9])));
const rab = new ArrayBuffer(16, { maxByteLength: 64 });
const resizable = new Float32Array(rab, 0, 4);
resizable.set([5, 6, 7, 8]);
const queued = call(resizable);
rab.resize(0);
report('resizable-shrunk', await queued);
await Promise.all(busy);

// Length-tracking view on a resizable buffer, grown after the call.
const rab2 = new ArrayBuffer(16, { maxByteLength: 64 });
const tracking = new Float32Array(rab2);
tracking.set([1, 1, 2, 2]);
const tracked = call(tracking);
rab2.resize(64);
report('resizable-grown', await tracked);

// Detached before the call.
const detached = new Float32Array([1, 2, 3, 4]);
structuredClone(detached.buffer, { transfer: [detached.buffer] });
report('detached', await call(detached));

// 4 MB transferred away right after the call, its new owner dropped and collected while the request is
// queued behind busy ones (the memory was freed under the batcher: a segfault).
const N = 1024 * 1024;
const reshape = (data) => rt.infer('reshape', { data: { data, dims: [N] }, shape: { data: new BigInt64Array([BigInt(N / 4), 4n]), dims: [2] } });
let intact = 0;
for (let k = 0; k < 3; k++) {
  const ahead = Array.from({ length: 3 }, () => reshape(new Float32Array(N).fill(1)));
  const big = new Float32Array(N).fill(7);
  const pending = reshape(big);
  new Float32Array(structuredClone(big.buffer, { transfer: [big.buffer] })).fill(-3);
  globalThis.gc();
  const out = (await pending).reshaped.data;
  await Promise.all(ahead);
  if (out.length === N && out.every((v) => v === 7)) intact++;
}
report('transferred-after-call', { intact });

// Other requests are unaffected.
report('after', await call(new Float32Array([4, 3, 2, 1])));
await rt.close();
`;

describe('embedded input buffers that change under a queued request', () => {
  const repo = makeRepo([{ name: 'slow', from: 'slow_identity', config: slowIdentityConfig({ maxBatch: 1, batching: '' }) }]);
  mkdirSync(join(repo.root, 'reshape', '1'), { recursive: true });
  writeFileSync(join(repo.root, 'reshape', '1', 'model.onnx'), buildReshapeByInput());
  const dir = mkdtempSync(join(tmpdir(), 'serval-buffers-'));
  afterAll(() => { repo.cleanup(); rmSync(dir, { recursive: true, force: true }); });

  it('never crashes the process nor returns wrong outputs', () => {
    const script = join(dir, 'child.mjs');
    writeFileSync(script, CHILD);
    const r = spawnSync(process.execPath, ['--expose-gc', script, repo.root], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `child exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`).toBe(0);
    const outcomes = Object.fromEntries(r.stdout.trim().split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { case: string; outcome: unknown }).map((o) => [o.case, o.outcome]));
    expect(outcomes).toEqual({
      'shared': { y: [1, 2, 3, 4] },
      'resizable-shrunk': { y: [5, 6, 7, 8] },
      'resizable-grown': { y: [1, 1, 2, 2] },
      'detached': { code: 'INVALID_ARGUMENT' },
      'transferred-after-call': { intact: 3 },
      'after': { y: [4, 3, 2, 1] },
    });
  });
});
