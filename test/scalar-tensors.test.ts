/**
 * Rank-0 (scalar) tensors in the embedded API, and the one ambiguity they bring: onnxruntime reports a
 * tensor whose shape the model does not declare as [] too. Auto-complete takes [] as a scalar; a request of
 * another rank is a 400 that says how to serve it (list the dims in config.pbtxt), and once listed it works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScalarIo } from '../src/model-generator/onnx/scalar-io.js';
import { buildShapelessIdentity } from '../src/model-generator/onnx/shapeless-identity.js';
import { Runtime } from '../src/index.js';
import { rejected } from './helpers/caught.js';
import { generatedRepo } from './helpers/generated-repo.js';

describe('scalar tensors', () => {
  const repo = generatedRepo({
    scalar_io: { onnx: buildScalarIo() },
    shapeless: { onnx: buildShapelessIdentity() },
    shapeless_listed: {
      onnx: buildShapelessIdentity(),
      config: 'name: "shapeless_listed"\ninput [{ name: "x" data_type: TYPE_FP32 dims: [-1, -1] }]\noutput [{ name: "y" data_type: TYPE_FP32 dims: [-1, -1] }]',
    },
  });
  let rt: Runtime;
  beforeAll(async () => { rt = await Runtime.open({ modelRepository: repo.root }); });
  afterAll(async () => { await rt?.close(); repo.cleanup(); });

  it('a model with scalar inputs and outputs loads, does not batch, and serves dims []', async () => {
    expect(rt.config('scalar_io')).toMatchObject({ maxBatchSize: 0, input: [{ name: 'offset', dims: [] }, { name: 'values', dims: [3] }, { name: 'count', dims: [] }] });
    const out = await rt.infer('scalar_io', {
      offset: { data: new Float32Array([2]), dims: [] },
      values: { data: new Float32Array([1, 2, 3]), dims: [3] },
      count: { data: new BigInt64Array([9223372036854775807n]), dims: [] },
    });
    expect(out).toEqual({
      shifted: { type: 'FP32', dims: [3], data: new Float32Array([3, 4, 5]) },
      total: { type: 'FP32', dims: [], data: new Float32Array([6]) },
      count_out: { type: 'INT64', dims: [], data: new BigInt64Array([9223372036854775807n]) },
    });
  });

  it('bad input: a scalar input given one element of shape [1]', async () => {
    const err = await rejected(rt.infer('scalar_io', {
      offset: { data: new Float32Array([2]), dims: [1] },
      values: { data: new Float32Array(3), dims: [3] },
      count: { data: new BigInt64Array(1), dims: [] },
    }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/input 'offset' of model 'scalar_io' has shape \[1\], expected \[\] \(a scalar; if the model takes another rank/);
  });

  it('a model that declares no shape auto-completes as scalars; another rank is a 400 naming the remedy', async () => {
    expect((await rt.infer('shapeless', { x: { data: new Float32Array([5]), dims: [] } }))['y']!.data).toEqual(new Float32Array([5]));
    const err = await rejected(rt.infer('shapeless', { x: { data: new Float32Array(6), dims: [2, 3] } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/list the input's dims in config\.pbtxt/);
  });

  it('listed in config.pbtxt with its dims, the shapeless model serves that rank', async () => {
    const out = await rt.infer('shapeless_listed', { x: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] } });
    expect(out['y']).toEqual({ type: 'FP32', dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  });
});
