/**
 * Warmup follows Triton: the default warmup (one zero-filled request, run when config.pbtxt has no
 * `model_warmup`) never fails a load, because zeros are not a valid input for every model; its failure is
 * reported as a `warmup-failed` event and the model is READY. A `model_warmup` the config asks for that
 * fails still fails the load. The models: a Reshape whose target shape is an input, and an integer Mod whose
 * divisor is an input (all zeros is invalid for both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../src/api-types.js';
import { buildModByInput } from '../src/model-generator/onnx/mod-by-input.js';
import { buildReshapeByInput } from '../src/model-generator/onnx/reshape-by-input.js';
import { Runtime } from '../src/index.js';
import { generatedRepo } from './helpers/generated-repo.js';

const explicitWarmup = (shape: string) => `
name: "reshape_warm"
model_warmup {
  name: "sample"
  batch_size: 1
  inputs { key: "data" value { data_type: TYPE_FP32 dims: [6] zero_data: true } }
  inputs { key: "shape" value { data_type: TYPE_INT64 dims: [2] ${shape} } }
}`;

describe('default warmup', () => {
  const onnx = buildReshapeByInput();
  const repo = generatedRepo({
    reshape_default: { onnx },
    mod_default: { onnx: buildModByInput() },
    reshape_warm: { onnx, config: explicitWarmup('zero_data: true') },
  });
  const events: RuntimeEvent[] = [];
  let rt: Runtime;
  beforeAll(async () => { rt = await Runtime.open({ modelRepository: repo.root, onEvent: (e) => events.push(e) }); });
  afterAll(async () => { await rt?.close(); repo.cleanup(); });

  it('a failing default warmup is reported as an event and the model is READY', async () => {
    expect(rt.models().find((m) => m.name === 'reshape_default')).toMatchObject({ state: 'READY', reason: '' });
    const warned = events.filter((e) => e.kind === 'warmup-failed').sort((x, y) => x.model.localeCompare(y.model));
    expect(warned).toEqual([
      expect.objectContaining({ model: 'mod_default', version: 1, instance: 0, reason: expect.stringMatching(/modulo by zero/) }),
      expect.objectContaining({ model: 'reshape_default', version: 1, instance: 0, reason: expect.stringMatching(/Reshape/) }),
    ]);
    const out = await rt.infer('reshape_default', {
      data: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [6] },
      shape: { data: new BigInt64Array([2n, 3n]), dims: [2] },
    });
    expect(out['reshaped']).toMatchObject({ dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    expect(rt.models().find((m) => m.name === 'mod_default')).toMatchObject({ state: 'READY' });
    const mod = await rt.infer('mod_default', { a: { data: new Int32Array([7, 8, 9]), dims: [3] }, b: { data: new Int32Array([4, 3, 2]), dims: [3] } });
    expect(mod['c']!.data).toEqual(new Int32Array([3, 2, 1]));
  });

  it('a model_warmup the config asks for that fails makes the model UNAVAILABLE (Triton semantics)', () => {
    const m = rt.models().find((x) => x.name === 'reshape_warm');
    expect(m).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/Reshape/) });
  });
});
