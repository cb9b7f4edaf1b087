// The JavaScript backend through the real Runtime: model.mjs runs in an executor thread, batched by the native
// batcher; a throwing execute(), outputs of the wrong shape or type, and a thread that exits fail only that
// batch (EXECUTION_FAILED naming the model), the instance recovers, and later requests succeed.
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../src/index.js';
import { rejected } from './helpers/caught.js';
import { PROBE_MODEL, jsConfig, pipelineRepo } from './helpers/pipeline-repo.js';
import { rows } from './helpers/temp-repo.js';

let rt: Runtime | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await rt?.close();
  cleanup?.();
  rt = undefined;
  cleanup = undefined;
});

async function open(config = jsConfig({ params: { factor: '2' } }), source = PROBE_MODEL, events?: unknown[]) {
  const repo = pipelineRepo([], [{ name: 'probe', config, source }]);
  cleanup = repo.cleanup;
  rt = await Runtime.open({ modelRepository: repo.root, ...(events ? { onEvent: (e) => events.push(e) } : {}) });
  return rt;
}

const mark = (value: number) => ({ x: { data: Float32Array.from([value, 1, 2, 3]), dims: [1, 4] } });

describe('javascript backend', () => {
  it('runs execute() with the config, in batches formed by the native batcher', async () => {
    const r = await open(jsConfig({ params: { factor: '2' }, batching: 'dynamic_batching { max_queue_delay_microseconds: 20000 }' }));
    expect(r.metadata('probe')).toMatchObject({ platform: 'javascript', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] });
    const outs = await Promise.all(Array.from({ length: 16 }, (_, i) => r.infer('probe', { x: rows(1, i) })));
    outs.forEach((o, i) => {
      expect(o.y!.type).toBe('FP32');
      expect(o.y!.dims).toEqual([1, 4]);
      expect(Array.from(o.y!.data as Float32Array)).toEqual([2 * i, 2 * i, 2 * i, 2 * i]);
    });
    const s = r.stats().models[0]!;
    expect(s.success).toBe(16);
    expect(s.executionCount).toBeLessThan(16);
  });

  it.each([
    ['a throwing execute()', -1, "javascript model 'probe': the probe model was asked to throw"],
    ['an output of the wrong shape', -2, "output 'y' has dims [1,4], expected [3, 4]"],
    ['an output of the wrong type', -3, "output 'y' must be a Float32Array (FP32), got Float64Array"],
  ])('%s fails only that batch', async (_label, value, message) => {
    const r = await open();
    const bad = { x: { data: Float32Array.from([value, 0, 0, 0, 5, 5, 5, 5, 6, 6, 6, 6]), dims: [3, 4] } };
    const err = await rejected(r.infer('probe', bad));
    expect(err.code).toBe('EXECUTION_FAILED');
    expect(err.message).toContain(message);
    const ok = await r.infer('probe', { x: rows(2, 3) });
    expect(Array.from(ok.y!.data as Float32Array)).toEqual(new Array(8).fill(6));
    expect(r.stats().models[0]!.failure['EXECUTION_FAILED']).toBe(1);
  });

  it('a thread that exits fails its batch, restarts, and serves again', async () => {
    const events: { kind: string }[] = [];
    const r = await open(undefined, undefined, events);
    const err = await rejected(r.infer('probe', mark(-4)));
    expect(err.code).toBe('EXECUTION_FAILED');
    await expect.poll(() => events.some((e) => e.kind === 'instance-restarted')).toBe(true);
    const ok = await r.infer('probe', mark(1));
    expect(Array.from(ok.y!.data as Float32Array)).toEqual([2, 2, 4, 6]);
    expect(r.stats().models[0]!.instances[0]!.restarts).toBe(1);
  });

  it('execute_timeout_ms: a batch that runs too long fails, its thread is replaced, and serving goes on', async () => {
    const events: { kind: string; reason?: string }[] = [];
    const r = await open(jsConfig({ params: { factor: '2', execute_timeout_ms: '100' } }), undefined, events);
    const started = performance.now();
    const err = await rejected(r.infer('probe', mark(1800)));  // would sleep 800 ms
    expect(err.code).toBe('EXECUTION_FAILED');
    expect(err.message).toContain('execute() ran longer than execute_timeout_ms (100 ms)');
    expect(performance.now() - started).toBeLessThan(700);
    await expect.poll(() => events.find((e) => e.kind === 'instance-restarted')?.reason).toContain('ran longer than execute_timeout_ms (100 ms)');
    expect(Array.from((await r.infer('probe', mark(1))).y!.data as Float32Array)).toEqual([2, 2, 4, 6]);
  });

  it('a bad execute_timeout_ms leaves the model UNAVAILABLE naming the parameter', async () => {
    const r = await open(jsConfig({ params: { execute_timeout_ms: 'soon' } }));
    expect(r.models()[0]!.reason).toContain('parameter execute_timeout_ms must be a positive number of milliseconds, got "soon"');
  });

  it('a model.mjs without execute() leaves the model UNAVAILABLE with the reason', async () => {
    const r = await open(jsConfig(), 'export const nothing = 1;');
    expect(r.models()[0]).toMatchObject({ state: 'UNAVAILABLE' });
    expect(r.models()[0]!.reason).toContain('must export a function execute(batch)');
    expect((await rejected(r.infer('probe', mark(1)))).code).toBe('MODEL_UNAVAILABLE');
  });

  it('an initialize() that throws fails the load with its message', async () => {
    const r = await open(jsConfig(), 'export function initialize() { throw new Error("bad threshold"); }\nexport function execute() { return {}; }');
    expect(r.models()[0]!.reason).toContain("javascript model 'probe': bad threshold");
  });

  it('queue timeouts and cancellation apply as for any model', async () => {
    const r = await open(jsConfig({ maxBatch: 1, batching: 'dynamic_batching { default_queue_policy { allow_timeout_override: true } }' }));
    const blocker = r.infer('probe', mark(1300));  // holds the only instance for 300 ms
    await new Promise((res) => setTimeout(res, 20));
    expect((await rejected(r.infer('probe', mark(1), { timeoutMs: 30 }))).code).toBe('TIMEOUT');
    const ac = new AbortController();
    const cancelled = r.infer('probe', mark(1), { signal: ac.signal });
    ac.abort();
    expect((await rejected(cancelled)).code).toBe('CANCELLED');
    await blocker;
  });
});
