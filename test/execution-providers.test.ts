// Execution provider choice per instance: KIND_CPU on CPU; KIND_GPU on TensorRT (when config.pbtxt asks
// for it), then CUDA, with the instance's device id; CPU last; every skipped provider with its reason.
import { describe, expect, it } from 'vitest';
import {
  installedProviders, planProviders, providerStatus, tensorRtPlanReason, type ProviderName,
} from '../src/executor/execution-providers.js';

const set = (...names: ProviderName[]) => new Set<ProviderName>(['cpu', ...names]);

describe('planProviders', () => {
  it('runs a KIND_CPU instance on CPU even where GPU providers and accelerators are present', () => {
    expect(planProviders({ kind: 'CPU', device: 0, gpuAccelerators: ['tensorrt'], available: set('cuda', 'tensorrt') }))
      .toEqual({ candidates: [{ name: 'cpu' }], skipped: [] });
  });

  it('runs a KIND_GPU instance on CUDA with its device id, CPU as the last resort', () => {
    expect(planProviders({ kind: 'GPU', device: 3, gpuAccelerators: [], available: set('cuda') }))
      .toEqual({ candidates: [{ name: 'cuda', deviceId: 3 }, { name: 'cpu' }], skipped: [] });
  });

  it('does not use TensorRT unless the config asks for it', () => {
    expect(planProviders({ kind: 'GPU', device: 0, gpuAccelerators: [], available: set('cuda', 'tensorrt') }).candidates)
      .toEqual([{ name: 'cuda', deviceId: 0 }, { name: 'cpu' }]);
  });

  it('tries TensorRT, then CUDA, then CPU when gpu_execution_accelerator names tensorrt', () => {
    expect(planProviders({ kind: 'GPU', device: 1, gpuAccelerators: ['tensorrt'], available: set('cuda', 'tensorrt') }))
      .toEqual({ candidates: [{ name: 'tensorrt', deviceId: 1 }, { name: 'cuda', deviceId: 1 }, { name: 'cpu' }], skipped: [] });
  });

  it('skips TensorRT with its reason when only CUDA is installed', () => {
    const plan = planProviders({ kind: 'GPU', device: 0, gpuAccelerators: ['tensorrt'], available: set('cuda') });
    expect(plan.candidates).toEqual([{ name: 'cuda', deviceId: 0 }, { name: 'cpu' }]);
    expect(plan.skipped).toEqual([{ name: 'tensorrt', reason: expect.stringContaining('TensorRT execution provider is not installed') }]);
  });

  it('falls back to CPU with a reason for each GPU provider that is missing', () => {
    const plan = planProviders({ kind: 'GPU', device: 0, gpuAccelerators: ['tensorrt'], available: set() });
    expect(plan.candidates).toEqual([{ name: 'cpu' }]);
    expect(plan.skipped.map((s) => s.name)).toEqual(['tensorrt', 'cuda']);
    expect(plan.skipped[1]!.reason).toContain('libonnxruntime_providers_cuda.so not found');
  });
});

describe('installedProviders', () => {
  const backends = [{ name: 'cpu' }, { name: 'webgpu' }, { name: 'cuda' }, { name: 'tensorrt' }];

  it('counts a provider the binding supports only when its library is present', () => {
    expect(installedProviders(backends, () => false)).toEqual(set());
    const cudaOnly = (f: string) => f === 'libonnxruntime_providers_cuda.so' || f === 'libonnxruntime_providers_shared.so';
    expect(installedProviders(backends, cudaOnly)).toEqual(set('cuda'));
    expect(installedProviders(backends, () => true)).toEqual(set('cuda', 'tensorrt'));
  });

  it('counts none without the shared provider bridge', () => {
    expect(installedProviders(backends, (f) => f !== 'libonnxruntime_providers_shared.so')).toEqual(set());
  });

  it('ignores a library the binding was not built to use', () => {
    expect(installedProviders([{ name: 'cpu' }], () => true)).toEqual(set());
  });
});

describe('providerStatus', () => {
  it('has no fallback reason when the first choice runs', () => {
    expect(providerStatus('cuda', [])).toEqual({ executionProvider: 'cuda' });
  });

  it('names every skipped provider in order', () => {
    expect(providerStatus('cpu', [{ name: 'tensorrt', reason: 'a' }, { name: 'cuda', reason: 'b' }]))
      .toEqual({ executionProvider: 'cpu', fallbackReason: 'running on cpu: tensorrt: a; cuda: b' });
  });
});

describe('tensorRtPlanReason', () => {
  it('says a TensorRT runtime is missing when it is', () => {
    expect(tensorRtPlanReason(set('cuda'))).toMatch(/^platform tensorrt_plan needs a TensorRT runtime, and none is present/);
  });

  it('says serialized engines are not executed where TensorRT is present', () => {
    expect(tensorRtPlanReason(set('tensorrt'))).toContain('cannot execute a serialized engine');
  });
});
