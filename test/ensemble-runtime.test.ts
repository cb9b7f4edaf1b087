// Ensembles served by the real Runtime: each step is an ordinary request to its member (batched by the member's
// native batcher), fan-out and fan-in, failures and cancellation name the step and reach every step in flight,
// deadlines and priorities propagate, and the ensemble is READY only while its members are.
import { describe, expect, it } from 'vitest';
import { Runtime, type RequestHandle } from '../src/index.js';
import { rejected } from './helpers/caught.js';
import { PROBE_MODEL, ensembleConfig, jsConfig, mapStep, pipelineRepo, pipelineSession } from './helpers/pipeline-repo.js';
import { rows } from './helpers/temp-repo.js';

const session = pipelineSession();

const SUM_MODEL = `
export function execute(batch) {
  const a = batch.inputs.a.data, b = batch.inputs.b.data;
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return { y: { data: y, dims: [batch.size, 4] } };
}`;
const SUM_CONFIG = [
  'name: "{name}"', 'backend: "javascript"', 'max_batch_size: 8',
  'input [ { name: "a" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "b" data_type: TYPE_FP32 dims: [ 4 ] } ]',
  'output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]', 'dynamic_batching { }',
].join('\n');

/** p2 doubles, p3 triples (both the probe model: see PROBE_MODEL for its failure marks); `ens` is p2 → p3. */
async function open(opts: { p2?: string; ensembles?: Record<string, string>; loadModels?: string[]; maxBatch?: number } = {}) {
  const repo = session.repo = pipelineRepo([], [
    { name: 'p2', config: opts.p2 ?? jsConfig({ params: { factor: '2' } }), source: PROBE_MODEL },
    { name: 'p3', config: jsConfig({ params: { factor: '3' } }), source: PROBE_MODEL },
    { name: 'sum', config: SUM_CONFIG, source: SUM_MODEL },
  ], opts.ensembles ?? { ens: ensembleConfig([mapStep('p2', 'x', 't'), mapStep('p3', 't', 'y')], '', opts.maxBatch) });
  session.rt = await Runtime.open({ modelRepository: repo.root, ...(opts.loadModels ? { loadModels: opts.loadModels } : {}) });
  return session.rt;
}

const mark = (value: number) => ({ x: { data: Float32Array.from([value, 1, 2, 3]), dims: [1, 4] } });
const modelStats = (r: Runtime, name: string) => r.stats().models.find((m) => m.name === name)!;

describe('an ensemble is served like a model', () => {
  it('answers infer, metadata, config, readiness and stats (per step)', async () => {
    const r = await open();
    const out = await r.infer('ens', { x: rows(2, 1) });
    expect(out.y!.dims).toEqual([2, 4]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual(new Array(8).fill(6));
    expect(r.metadata('ens')).toEqual({
      name: 'ens', versions: ['1'], platform: 'ensemble',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect(r.config('ens').ensembleScheduling!.step.map((s) => s.modelName)).toEqual(['p2', 'p3']);
    expect(r.isReady('ens')).toBe(true);
    const s = modelStats(r, 'ens');
    expect(s).toMatchObject({ success: 1, inferenceCount: 2 });
    expect(s.requestSeconds.count).toBe(1);
    expect(s.ensemble!.steps.map((x) => [x.step, x.model, x.success])).toEqual([[0, 'p2', 1], [1, 'p3', 1]]);
    expect(modelStats(r, 'p2').success).toBe(1);
  });

  it('runs fan-out steps side by side and a fan-in step once both are done', async () => {
    const r = await open({ ensembles: { ens: ensembleConfig([
      mapStep('p2', 'x', 'a'), mapStep('p3', 'x', 'b'),
      '{ model_name: "sum" input_map { key: "a" value: "a" } input_map { key: "b" value: "b" } output_map { key: "y" value: "y" } }',
    ]) } });
    const out = await r.infer('ens', { x: rows(1, 1) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([5, 5, 5, 5]);
  });

  it('loads the members an ensemble needs even when only the ensemble is asked for', async () => {
    const r = await open({ loadModels: ['ens'] });
    expect(r.models().map((m) => `${m.name}:${m.state}`)).toEqual(['ens:READY', 'p2:READY', 'p3:READY']);
    expect(r.isReady()).toBe(true);
  });

  it('batches the steps of concurrent ensemble requests in the members (average batch > 1)', async () => {
    const r = await open({ p2: jsConfig({ params: { factor: '2' }, batching: 'dynamic_batching { max_queue_delay_microseconds: 2000 }' }) });
    const outs = await Promise.all(Array.from({ length: 64 }, (_, i) => r.infer('ens', { x: rows(1, i) })));
    outs.forEach((o, i) => expect((o.y!.data as Float32Array)[0]).toBe(6 * i));
    for (const member of ['p2', 'p3']) {
      const s = modelStats(r, member);
      expect(s.inferenceCount).toBe(64);
      expect(s.inferenceCount / s.executionCount).toBeGreaterThan(1);
    }
  });
});

describe('failures, cancellation, deadlines and priorities reach the steps', () => {
  it('a failed step fails the request with its code and names the step', async () => {
    const r = await open();
    const err = await rejected(r.infer('ens', mark(-1)));
    expect(err.code).toBe('EXECUTION_FAILED');
    expect(err.message).toContain("ensemble 'ens' step 0 ('p2'): javascript model 'p2': the probe model was asked to throw");
    expect(modelStats(r, 'ens').failure).toEqual({ EXECUTION_FAILED: 1 });
    expect(modelStats(r, 'ens').ensemble!.steps[0]!.failure).toEqual({ EXECUTION_FAILED: 1 });
    expect(modelStats(r, 'p3').success + Object.keys(modelStats(r, 'p3').failure).length).toBe(0);  // never reached
  });

  it('bad input is INVALID_INPUT: unknown or missing names at the ensemble, shapes at the step that reads them', async () => {
    const r = await open();
    expect((await rejected(r.infer('ens', { z: rows(1) }))).message).toContain("unexpected input 'z' for model 'ens'");
    expect((await rejected(r.infer('ens', {}))).code).toBe('INVALID_INPUT');
    const err = await rejected(r.infer('ens', { x: { data: new Float32Array(3), dims: [1, 3] } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain("ensemble 'ens' step 0 ('p2')");
  });

  it("the caller's AbortSignal cancels the step waiting in its member's queue", async () => {
    const r = await open({ p2: jsConfig({ maxBatch: 1, params: { factor: '1' } }), maxBatch: 1 });
    const blocker = r.infer('p2', mark(1300));
    await new Promise((res) => setTimeout(res, 20));
    const ac = new AbortController();
    const started = performance.now();
    const pending = r.infer('ens', mark(1), { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    const err = await rejected(pending);
    expect(err.code).toBe('CANCELLED');
    expect(performance.now() - started).toBeLessThan(250);  // answered before the blocker let the step run
    await blocker;
    await expect.poll(() => modelStats(r, 'p2').failure['CANCELLED']).toBe(1);
    expect(modelStats(r, 'p3').success).toBe(0);
  });

  it('RequestHandle.cancel (what the HTTP transports call when a client goes away) withdraws the queued step', async () => {
    const r = await open({ p2: jsConfig({ maxBatch: 1, params: { factor: '1' } }), maxBatch: 1 });
    const blocker = r.infer('p2', mark(1300));
    await new Promise((res) => setTimeout(res, 20));
    const handle: RequestHandle = {};
    const pending = r.infer('ens', mark(1), { handle });
    expect(handle.version).toBe(1);
    handle.cancel!();
    expect((await rejected(pending)).code).toBe('CANCELLED');
    await blocker;
    await expect.poll(() => modelStats(r, 'p2').failure['CANCELLED']).toBe(1);
    expect(modelStats(r, 'p3').success).toBe(0);
  });

  it('the ensemble timeout covers every step: TIMEOUT, and the queued step is withdrawn', async () => {
    const r = await open({ p2: jsConfig({ maxBatch: 1, params: { factor: '1' } }), maxBatch: 1 });
    const blocker = r.infer('p2', mark(1300));
    await new Promise((res) => setTimeout(res, 20));
    const err = await rejected(r.infer('ens', mark(1), { timeoutMs: 40 }));
    expect(err.code).toBe('TIMEOUT');
    await blocker;
    await expect.poll(() => (modelStats(r, 'p2').failure['CANCELLED'] ?? 0) + (modelStats(r, 'p2').failure['TIMEOUT'] ?? 0)).toBe(1);
    expect(modelStats(r, 'p3').success).toBe(0);
  });

  it('the time the first step used is taken from what later steps may wait', async () => {
    const r = await open({ p2: jsConfig({ params: { factor: '1' } }) });
    // Each step sleeps 120 ms (p2 passes the mark on unchanged): the second one starts with ~60 ms left.
    const err = await rejected(r.infer('ens', mark(1120), { timeoutMs: 180 }));
    expect(err.code).toBe('TIMEOUT');
    expect(modelStats(r, 'ens').ensemble!.steps[0]!.success).toBe(1);
  });

  it("the ensemble's priority orders its steps in the member's queue", async () => {
    const r = await open({ p2: jsConfig({ maxBatch: 1, params: { factor: '1' }, batching: 'dynamic_batching { priority_levels: 2 default_priority_level: 2 }' }),
      ensembles: { ens: ensembleConfig([mapStep('p2', 'x', 'y')], '', 1) } });  // one step: its answer is p2's
    const order: string[] = [];
    const blocker = r.infer('p2', mark(1100));
    await new Promise((res) => setTimeout(res, 20));
    // The low one sleeps 200 ms when it runs, so which ran first shows in the order of the answers.
    const low = r.infer('p2', mark(1200), { priority: 2 }).then(() => { order.push('direct, priority 2'); });
    const high = r.infer('ens', mark(1), { priority: 1 }).then(() => { order.push('ensemble, priority 1'); });
    await Promise.all([blocker, low, high]);
    expect(order).toEqual(['ensemble, priority 1', 'direct, priority 2']);
  });
});

describe('loading', () => {
  it('an ensemble whose member does not exist is UNAVAILABLE, saying which', async () => {
    const r = await open({ ensembles: { ens: ensembleConfig([mapStep('nope', 'x', 'y')]) } });
    const ens = r.models().find((m) => m.name === 'ens')!;
    expect(ens.state).toBe('UNAVAILABLE');
    expect(ens.reason).toContain("member model 'nope'");
    expect((await rejected(r.infer('ens', mark(1)))).code).toBe('MODEL_UNAVAILABLE');
  });

  it('a type or shape mismatch between steps is an error with file:line', async () => {
    const r = await open({ ensembles: { ens: ensembleConfig([
      '{ model_name: "sum" input_map { key: "a" value: "x" } output_map { key: "y" value: "y" } }',
    ]) } });
    expect(r.models().find((m) => m.name === 'ens')!.reason).toMatch(/ens\/config\.pbtxt:7: field 'ensemble_scheduling\.step\[0\]\.input_map' does not feed input "b"/);
    await r.unloadModel('ens');
    session.repo!.writeEnsemble('ens', ensembleConfig([
      '{ model_name: "p2" input_map { key: "x" value: "x" } output_map { key: "y" value: "y" } }',
    ]).replace('output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]', 'output [ { name: "y" data_type: TYPE_FP64 dims: [ 4 ] } ]'));
    await expect(r.loadModel('ens')).rejects.toThrow(/config\.pbtxt:5: field 'output\[0\]' is TYPE_FP64 \[-1, 4\] \(ensemble output "y"\) but is written as TYPE_FP32/);
  });

  it('an ensemble may be a step of another: p2 → (p2 → p3) gives 12x', async () => {
    const r = await open({ ensembles: { ens: ensembleConfig([mapStep('p2', 'x', 't'), mapStep('p3', 't', 'y')]), outer: ensembleConfig([mapStep('p2', 'x', 't'), mapStep('ens', 't', 'y')]) } });
    expect(r.isReady('outer')).toBe(true);
    expect(Array.from((await r.infer('outer', mark(1))).y!.data as Float32Array)).toEqual([12, 12, 24, 36]);
    await r.unloadModel('p3');
    expect(r.models().find((m) => m.name === 'outer')).toMatchObject({ state: 'UNAVAILABLE', reason: "member model 'ens' is not ready" });
  });

  it('a cycle of ensembles is refused at load, naming it, and does not hang the load', async () => {
    const r = await open({ ensembles: {
      a: ensembleConfig([mapStep('p2', 'x', 't'), mapStep('b', 't', 'y')]),
      b: ensembleConfig([mapStep('a', 'x', 'y')]),
    } });
    const reason = (name: string) => r.models().find((m) => m.name === name)!.reason;
    expect(reason('a')).toMatch(/a\/config\.pbtxt:7: field 'ensemble_scheduling\.step\[1\]\.model_name' names "b", which leads to a cycle of ensembles \(a → b → a\)/);
    expect(reason('b')).toContain('(b → a → b)');
    expect(r.isReady('p2')).toBe(true);
  });

  it('is READY only while its members are: unloading a member makes it UNAVAILABLE, reloading restores it', async () => {
    const r = await open();
    await r.unloadModel('p3');
    expect(r.isReady('ens')).toBe(false);
    expect(r.models().find((m) => m.name === 'ens')).toMatchObject({ state: 'UNAVAILABLE', reason: "member model 'p3' is not ready" });
    expect((await rejected(r.infer('ens', mark(1)))).code).toBe('MODEL_UNAVAILABLE');
    await r.loadModel('p3');
    expect(r.isReady('ens')).toBe(true);
    expect((await r.infer('ens', mark(1))).y!.dims).toEqual([1, 4]);
  });
});
