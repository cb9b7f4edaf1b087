import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures, FIXTURE_REPOSITORY } from '../src/model-generator/generate.js';
import {
  AUTO_COMPLETE_MAX_BATCH_SIZE, autoCompleteConfig, modelInfoFromSession, type OnnxModelInfo,
} from '../src/repository/autocomplete.js';
import { parseModelConfig } from '../src/repository/parse-config.js';
import { caught, type CaughtError } from './helpers/caught.js';

const FILE = 'models/m/config.pbtxt';

function complete(text: string, model: OnnxModelInfo) {
  return autoCompleteConfig(parseModelConfig(text, { file: FILE, modelName: 'm' }), model);
}

function completeError(text: string, model: OnnxModelInfo): CaughtError {
  return caught(() => complete(text, model));
}

/** x FP32 [batch, 4] → y FP32 [batch, 2] and mask BOOL [batch, 2]. */
const BATCHED: OnnxModelInfo = {
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }, { name: 'mask', type: 'bool', shape: [-1, 2] }],
};

/** A model with fixed shapes: it cannot batch. */
const FIXED: OnnxModelInfo = {
  inputs: [{ name: 'x', type: 'int64', shape: [3, 4] }],
  outputs: [{ name: 'y', type: 'int64', shape: [3] }],
};

describe('auto-complete', () => {
  it('fills an empty config from a batchable model and enables dynamic batching', () => {
    const config = complete('', BATCHED);
    expect(config.maxBatchSize).toBe(AUTO_COMPLETE_MAX_BATCH_SIZE);
    expect(AUTO_COMPLETE_MAX_BATCH_SIZE).toBe(8);
    expect(config.input).toEqual([{ name: 'x', dataType: 'FP32', dims: [4] }]);
    expect(config.output).toEqual([
      { name: 'y', dataType: 'FP32', dims: [2] }, { name: 'mask', dataType: 'BOOL', dims: [2] },
    ]);
    expect(config.dynamicBatching?.maxQueueDelayMicroseconds).toBe(0);
    expect(config.dynamicBatching?.preferredBatchSize).toEqual([]);
  });

  it('leaves batching off for a model with a fixed first dimension', () => {
    const config = complete('', FIXED);
    expect(config.maxBatchSize).toBe(0);
    expect(config.dynamicBatching).toBeUndefined();
    expect(config.input).toEqual([{ name: 'x', dataType: 'INT64', dims: [3, 4] }]);
    expect(config.output).toEqual([{ name: 'y', dataType: 'INT64', dims: [3] }]);
  });

  it('keeps an explicit max_batch_size, including 0', () => {
    expect(complete('max_batch_size: 2', BATCHED).maxBatchSize).toBe(2);
    const unbatched = complete('max_batch_size: 0', BATCHED);
    expect(unbatched.maxBatchSize).toBe(0);
    expect(unbatched.dynamicBatching).toBeUndefined();
    expect(unbatched.input).toEqual([{ name: 'x', dataType: 'FP32', dims: [-1, 4] }]);
  });

  it('keeps the configured dynamic_batching and checks it against the derived max_batch_size', () => {
    expect(complete('dynamic_batching { max_queue_delay_microseconds: 50 }', BATCHED).dynamicBatching?.maxQueueDelayMicroseconds).toBe(50);
    const err = completeError('dynamic_batching {\n preferred_batch_size: [16] }', BATCHED);
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe(`${FILE}:2: field 'dynamic_batching.preferred_batch_size' has 16, which exceeds max_batch_size 8`);
  });

  it('does not batch when the config lists full shapes (batch dimension included)', () => {
    const config = complete('input { name: "x" data_type: TYPE_FP32 dims: [-1, 4] }', BATCHED);
    expect(config.maxBatchSize).toBe(0);
    expect(config.input[0]!.dims).toEqual([-1, 4]);
  });

  it('adds the tensors a partial config leaves out and keeps the listed ones first', () => {
    const config = complete('output { name: "mask" data_type: TYPE_BOOL dims: [2] }', BATCHED);
    expect(config.output.map((t) => t.name)).toEqual(['mask', 'y']);
    expect(config.input.map((t) => t.name)).toEqual(['x']);
  });

  it('accepts configured -1 and fixed dims where the model is variable, and compares reshape', () => {
    const model: OnnxModelInfo = {
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 'n', 6] }], outputs: [{ name: 'y', type: 'float32', shape: ['batch'] }],
    };
    const config = complete('max_batch_size: 4 input { name: "x" data_type: TYPE_FP32 dims: [12] reshape { shape: [-1, 6] } }', model);
    expect(config.input[0]).toEqual({ name: 'x', dataType: 'FP32', dims: [12], reshape: [-1, 6] });
    expect(config.output[0]!.dims).toEqual([]);
  });

  it('does not modify the parsed config it was given', () => {
    const parsed = parseModelConfig('', { modelName: 'm' });
    autoCompleteConfig(parsed, BATCHED);
    expect(parsed.config.input).toEqual([]);
    expect(parsed.config.maxBatchSize).toBe(0);
  });

  describe('bad input', () => {
    it.each([
      ['an input the model lacks', 'input [{ name: "x" data_type: TYPE_FP32 dims: [4] },\n{ name: "z" data_type: TYPE_FP32 dims: [4] }]', 2,
        `field 'input[1]' names input "z", which the model does not have (model inputs: x)`],
      ['an output the model lacks', 'output {\n name: "q" data_type: TYPE_FP32 dims: [2] }', 1,
        `field 'output[0]' names output "q", which the model does not have (model outputs: y, mask)`],
      ['a data type mismatch', 'input {\n name: "x"\n data_type: TYPE_FP64\n dims: [4] }', 3,
        `field 'input[0].data_type' is TYPE_FP64 but the model's input "x" is TYPE_FP32`],
      ['a fixed dim mismatch', 'input { name: "x" data_type: TYPE_FP32\n dims: [5] }', 2,
        `field 'input[0].dims' is [5] but the model's "x" has shape [4] after the batch dimension (-1 = variable)`],
      ['a rank mismatch', 'max_batch_size: 8 output { name: "y" data_type: TYPE_FP32\n dims: [2, 1] }', 2,
        `field 'output[0].dims' is [2, 1] but the model's "y" has shape [2] after the batch dimension (-1 = variable)`],
      ['-1 where the model is fixed', 'max_batch_size: 0 input { name: "x" data_type: TYPE_FP32 dims: [-1, -1] }', 1,
        `field 'input[0].dims' is [-1, -1] but the model's "x" has shape [-1, 4] (-1 = variable)`],
      ['a reshape mismatch', 'max_batch_size: 8 input { name: "x" data_type: TYPE_FP32 dims: [4]\n reshape { shape: [2, 2] } }', 2,
        `field 'input[0].reshape' is [2, 2] but the model's "x" has shape [4] after the batch dimension (-1 = variable)`],
    ])('rejects %s', (_case, text, line, message) => {
      const err = completeError(text, BATCHED);
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toBe(`${FILE}:${line}: ${message}`);
    });

    it('rejects max_batch_size > 0 for a model without a batch dimension', () => {
      const err = completeError('\nmax_batch_size: 4', FIXED);
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toBe(`${FILE}:2: field 'max_batch_size' is 4 but the model's input "x" has no variable batch dimension (shape [3, 4])`);
    });

    it('rejects a model type serval does not serve', () => {
      const err = completeError('', { inputs: [{ name: 'c', type: 'complex64', shape: [2] }], outputs: [] });
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toBe(`${FILE}: the model's input "c" has type 'complex64', which serval does not serve`);
    });

    it('completes a rank-0 (scalar) tensor as dims [] on a model that does not batch', () => {
      const config = complete('', {
        inputs: [{ name: 'axis', type: 'int64', shape: [] }, { name: 'x', type: 'float32', shape: ['n', 3] }],
        outputs: [{ name: 'y', type: 'float32', shape: [] }],
      });
      expect(config.maxBatchSize).toBe(0);
      expect(config.input).toEqual([
        { name: 'axis', dataType: 'INT64', dims: [] },
        { name: 'x', dataType: 'FP32', dims: [-1, 3] },
      ]);
      expect(config.output).toEqual([{ name: 'y', dataType: 'FP32', dims: [] }]);
    });

    it('accepts config.pbtxt dims [] for a scalar of a model that does not batch', () => {
      const config = complete('input [{ name: "axis" data_type: TYPE_INT64 dims: [] }]', {
        inputs: [{ name: 'axis', type: 'int64', shape: [] }], outputs: [{ name: 'y', type: 'float32', shape: [] }],
      });
      expect(config.input).toEqual([{ name: 'axis', dataType: 'INT64', dims: [] }]);
    });

    it('bad config: a scalar tensor of a model that batches (it has no batch dimension)', () => {
      const err = completeError('max_batch_size: 4', { inputs: [{ name: 'x', type: 'float32', shape: [] }], outputs: [] });
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toMatch(/max_batch_size.*is 4 but the model's input "x" has no variable batch dimension \(shape \[\]\)/);
    });

    it('rejects warmup data for an input the model lacks, of the wrong type, or missing an input', () => {
      const warmup = (inputs: string) => `model_warmup {\n name: "w"\n ${inputs} }`;
      const zero = (name: string, type: string) => `inputs { key: "${name}" value { data_type: ${type} dims: [4] zero_data: true } }`;
      expect(completeError(warmup(zero('nope', 'TYPE_FP32')), BATCHED).message)
        .toBe(`${FILE}:3: field 'model_warmup[0].inputs["nope"]' names input "nope", which the model does not have`);
      expect(completeError(warmup(zero('x', 'TYPE_INT8')), BATCHED).message)
        .toBe(`${FILE}:3: field 'model_warmup[0].inputs["x"]' has data_type TYPE_INT8 but input "x" is TYPE_FP32`);
      const two: OnnxModelInfo = { ...BATCHED, inputs: [...BATCHED.inputs, { name: 'x2', type: 'float32', shape: ['batch', 4] }] };
      expect(completeError(warmup(zero('x', 'TYPE_FP32')), two).message)
        .toBe(`${FILE}:1: field 'model_warmup[0]' gives no data for input "x2"`);
      expect(complete(warmup(zero('x', 'TYPE_FP32')), BATCHED).modelWarmup[0]!.inputs.x!.zeroData).toBe(true);
    });
  });
});

describe('auto-complete from onnxruntime metadata', () => {
  beforeAll(() => {
    generateFixtures();
  });

  async function sessionInfo(model: string): Promise<OnnxModelInfo> {
    const session = await ort.InferenceSession.create(join(FIXTURE_REPOSITORY, model, '1', 'model.onnx'));
    try {
      return modelInfoFromSession(session);
    } finally {
      await session.release();
    }
  }

  it('completes identity_all_types (no config.pbtxt) with every serval data type', async () => {
    const config = autoCompleteConfig(parseModelConfig('', { modelName: 'identity_all_types' }), await sessionInfo('identity_all_types'));
    const types = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
    const name = (t: string) => t.toLowerCase();
    expect(config.maxBatchSize).toBe(8);
    expect(config.dynamicBatching).toBeDefined();
    expect(config.input).toEqual(types.map((t) => ({ name: `in_${name(t)}`, dataType: t, dims: [3] })));
    expect(config.output).toEqual(types.map((t) => ({ name: `out_${name(t)}`, dataType: t, dims: [3] })));
  });

  it('completes slow_identity from its partial config.pbtxt', async () => {
    const file = join(FIXTURE_REPOSITORY, 'slow_identity', 'config.pbtxt');
    const parsed = parseModelConfig(readFileSync(file, 'utf8'), { file, modelName: 'slow_identity' });
    const config = autoCompleteConfig(parsed, await sessionInfo('slow_identity'));
    expect(config.maxBatchSize).toBe(8);
    expect(config.input).toEqual([{ name: 'x', dataType: 'FP32', dims: [4] }]);
    expect(config.output).toEqual([{ name: 'y', dataType: 'FP32', dims: [4] }]);
    expect(config.dynamicBatching?.maxQueueDelayMicroseconds).toBe(2000);
  });
});
