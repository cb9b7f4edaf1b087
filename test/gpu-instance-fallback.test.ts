// KIND_GPU instances on a machine without onnxruntime's CUDA/TensorRT providers (this one): they load, serve
// the same outputs on CPU, and report why (rt.stats() per instance, an 'execution-provider-fallback' event).
// A tensorrt_plan model is UNAVAILABLE with the reason. KIND_CPU instances are unchanged.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime, type RuntimeEvent } from '../src/index.js';
import { availableProviders } from '../src/executor/installed-providers.js';
import { tritonModelStats } from '../src/server/stats-json.js';
import { rejected } from './helpers/caught.js';
import { makeRepo, rows } from './helpers/temp-repo.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TRT = 'optimization { execution_accelerators { gpu_execution_accelerator: [ { name: "tensorrt" } ] } }';
const config = (group: string, extra = '') => `name: "{name}"\nmax_batch_size: 8\ndynamic_batching { }\ninstance_group [ ${group} ]\n${extra}`;

async function open(models: Parameters<typeof makeRepo>[0]) {
  const repo = makeRepo(models);
  cleanups.push(repo.cleanup);
  const events: RuntimeEvent[] = [];
  const rt = await Runtime.open({ modelRepository: repo.root, onEvent: (e) => events.push(e), loadModels: 'none' });
  cleanups.push(() => rt.close());
  return { rt, events, repo };
}

const instances = (rt: Runtime, model: string) => rt.stats().models.find((m) => m.name === model)!.instances;

// These tests describe a machine without GPU providers; where one is installed they do not apply.
describe.skipIf(availableProviders().size > 1)('GPU instances without GPU execution providers', () => {
  it('serves a KIND_GPU instance on CPU with correct outputs and the reason', async () => {
    const { rt, events } = await open([{ name: 'g', from: 'slow_identity', config: config('{ kind: KIND_GPU gpus: [0, 1] }') }]);
    await rt.loadModel('g');
    const x = rows(2);
    x.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = await rt.infer('g', { x });
    expect(Array.from(out['y']!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stats = instances(rt, 'g');
    expect(stats.map((i) => [i.kind, i.executionProvider])).toEqual([['KIND_GPU', 'cpu'], ['KIND_GPU', 'cpu']]);
    for (const i of stats) expect(i.fallbackReason).toMatch(/^running on cpu: cuda: onnxruntime's CUDA execution provider is not installed/);
    const json = tritonModelStats(rt.stats().models.find((m) => m.name === 'g')!, 0);
    expect(json.execution_providers).toEqual(stats.map((i) => ({ instance: i.index, kind: 'KIND_GPU', execution_provider: 'cpu', fallback_reason: i.fallbackReason })));
    const fallbacks = events.filter((e) => e.kind === 'execution-provider-fallback');
    expect(fallbacks.map((e) => e.kind === 'execution-provider-fallback' && [e.model, e.instance, e.provider])).toEqual([['g', 0, 'cpu'], ['g', 1, 'cpu']]);
  });

  it('names TensorRT and CUDA, in that order, when the config asks for TensorRT', async () => {
    const { rt } = await open([{ name: 't', from: 'slow_identity', config: config('{ kind: KIND_GPU }', TRT) }]);
    await rt.loadModel('t');
    await rt.infer('t', { x: rows(1) });
    const [instance] = instances(rt, 't');
    expect(instance!.executionProvider).toBe('cpu');
    expect(instance!.fallbackReason).toMatch(/^running on cpu: tensorrt: .*TensorRT execution provider is not installed.*; cuda: .*CUDA execution provider is not installed/);
    expect(rt.config('t').optimization).toEqual({ executionAccelerators: { gpuExecutionAccelerator: [{ name: 'tensorrt' }] } });
  });

  it('falls back with onnxruntime\'s error when a provider is taken as installed but cannot start', async () => {
    const { rt } = await open([{ name: 'f', from: 'slow_identity', config: config('{ kind: KIND_GPU gpus: [2] }') }]);
    process.env['SERVAL_ORT_PROVIDERS'] = 'cuda';
    try {
      await rt.loadModel('f');
    } finally {
      delete process.env['SERVAL_ORT_PROVIDERS'];
    }
    await rt.infer('f', { x: rows(1) });
    const [instance] = instances(rt, 'f');
    expect(instance!.executionProvider).toBe('cpu');
    expect(instance!.fallbackReason).toMatch(/^running on cpu: cuda: device 2: .*Cuda/);
  });

  it('keeps KIND_CPU instances on CPU with no fallback, TensorRT asked for or not', async () => {
    const { rt, events } = await open([{ name: 'c', from: 'slow_identity', config: config('{ kind: KIND_CPU count: 2 }', TRT) }]);
    await rt.loadModel('c');
    await rt.infer('c', { x: rows(1) });
    expect(instances(rt, 'c').map((i) => [i.kind, i.executionProvider, i.fallbackReason])).toEqual([['KIND_CPU', 'cpu', undefined], ['KIND_CPU', 'cpu', undefined]]);
    expect(events.some((e) => e.kind === 'execution-provider-fallback')).toBe(false);
    expect(tritonModelStats(rt.stats().models.find((m) => m.name === 'c')!, 0)).not.toHaveProperty('execution_providers');
  });

  it('lists a tensorrt_plan model UNAVAILABLE because no TensorRT runtime is present', async () => {
    const { rt, repo } = await open([
      { name: 'plan', from: 'slow_identity', config: 'platform: "tensorrt_plan"\nmax_batch_size: 8' },
      { name: 'bare_plan', from: 'slow_identity' },
    ]);
    writeFileSync(join(repo.root, 'plan', '1', 'model.plan'), 'engine');
    // A version directory holding only model.plan (no config): Triton would infer the TensorRT platform.
    writeFileSync(join(repo.root, 'bare_plan', '1', 'model.plan'), 'engine');
    rmSync(join(repo.root, 'bare_plan', '1', 'model.onnx'));
    const reason = 'platform tensorrt_plan needs a TensorRT runtime, and none is present';
    for (const name of ['plan', 'bare_plan']) {
      expect((await rejected(rt.loadModel(name))).code).toBe('MODEL_UNAVAILABLE');
      const listed = rt.models().find((m) => m.name === name)!;
      expect(listed.state).toBe('UNAVAILABLE');
      expect(listed.reason).toContain(reason);
      expect((await rejected(rt.infer(name, { x: rows(1) }))).code).toBe('MODEL_UNAVAILABLE');
    }
  });
});
