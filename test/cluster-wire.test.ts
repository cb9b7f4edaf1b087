/**
 * What the router sends and reads back: a replica's configuration JSON parsed back to the ModelConfig it came
 * from, a formed batch as the v2 binary request a replica's decoder accepts, and a replica's binary response
 * decoded to the outputs, for every data type the router carries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelConfigFromTritonJson } from '../src/cluster/remote-config.js';
import { decodeBatchResponse, encodeBatchRequest, type WireTensor } from '../src/cluster/v2-client.js';
import { tritonModelConfig } from '../src/server/model-config-json.js';
import { parseModelConfig } from '../src/repository/parse-config.js';
import { decodeInferRequest, encodeInferResponse } from '../src/server/v2-codec.js';
import type { NativeBatch } from '../src/binding.js';
import type { InferOutputs } from '../src/api-types.js';

const ROOT = join(import.meta.dirname, '..');

describe('replica configuration JSON -> ModelConfig', () => {
  for (const model of ['fraud_mlp', 'image_cnn', 'tabular_mixed']) {
    it(`${model}: parses back to the config it was written from`, () => {
      const { config } = parseModelConfig(readFileSync(join(ROOT, 'models', model, 'config.pbtxt'), 'utf8'), { modelName: model });
      config.parameters = { slo_ms: '25', admission_policy: 'deadline' };
      const json = JSON.parse(JSON.stringify(tritonModelConfig(config)));
      expect(modelConfigFromTritonJson(json, model)).toEqual(JSON.parse(JSON.stringify(config)));
    });
  }
  it('bad configurations are MODEL_UNAVAILABLE with the reason', () => {
    expect(() => modelConfigFromTritonJson({ name: 'm' }, 'r/config')).toThrow(expect.objectContaining({ code: 'MODEL_UNAVAILABLE' }));
    expect(() => modelConfigFromTritonJson({ name: 'm', max_batch_size: 0, input: [{ name: 'x', data_type: 'TYPE_NOPE', dims: [1] }], output: [] }, 'r/config'))
      .toThrow(/unknown data_type "TYPE_NOPE"/);
  });
});

describe('batch request and response over the wire', () => {
  const inputs: WireTensor[] = [
    { name: 'ids', datatype: 'INT64' }, { name: 'flags', datatype: 'BOOL' }, { name: 'text', datatype: 'BYTES' }, { name: 'half', datatype: 'FP16' },
  ];
  const batch: NativeBatch = {
    id: 7, samples: 2, outputMask: 0b101,
    inputs: [
      { data: new BigInt64Array([9007199254740993n, -1n, 3n, 4n]), dims: [2, 2] },
      { data: new Uint8Array([1, 0, 0, 1]), dims: [2, 2] },
      { data: ['héllo', ''], dims: [2, 1] },
      { data: new Uint16Array([0x3c00, 0xc000]), dims: [2, 1] },
    ],
  };
  const outputs: WireTensor[] = [{ name: 'sum', datatype: 'INT64' }, { name: 'unused', datatype: 'FP32' }, { name: 'echo', datatype: 'BYTES' }];

  it('a replica decodes the batch request to the same tensors, asking only for the masked outputs', () => {
    const { headerLength, body } = encodeBatchRequest(inputs, outputs, batch);
    const decoded = decodeInferRequest(body, headerLength);
    expect(decoded.inputs['ids']).toEqual({ type: 'INT64', dims: [2, 2], data: batch.inputs[0]!.data });
    expect(decoded.inputs['flags']).toEqual({ type: 'BOOL', dims: [2, 2], data: batch.inputs[1]!.data });
    expect(decoded.inputs['text']).toEqual({ type: 'BYTES', dims: [2, 1], data: ['héllo', ''] });
    expect(decoded.inputs['half']).toEqual({ type: 'FP16', dims: [2, 1], data: batch.inputs[3]!.data });
    expect(decoded.plan.outputs).toEqual([{ name: 'sum', binary: true }, { name: 'echo', binary: true }]);
  });

  it("the replica's binary answer decodes to the outputs in model order; a malformed one is an Error", () => {
    const answer: InferOutputs = {
      echo: { type: 'BYTES', dims: [2, 1], data: ['a', 'bc'] },
      sum: { type: 'INT64', dims: [2, 1], data: new BigInt64Array([-5n, 2n ** 62n]) },
    } as InferOutputs;
    const { headers, body } = encodeInferResponse('m', 1, answer, { outputs: [{ name: 'echo', binary: true }, { name: 'sum', binary: true }], binaryDefault: true });
    const out = decodeBatchResponse(outputs, body, Number(headers['inference-header-content-length']));
    expect(out[0]).toEqual({ data: new BigInt64Array([-5n, 2n ** 62n]), dims: [2, 1] });
    expect(out[1]).toBeUndefined();
    expect(out[2]).toEqual({ data: ['a', 'bc'], dims: [2, 1] });
    expect(() => decodeBatchResponse(outputs, body, body.byteLength + 1)).toThrow(/exceeds the body/);
    const json = encodeInferResponse('m', 1, answer, { binaryDefault: false });
    expect(() => decodeBatchResponse(outputs, Buffer.from(json.body), undefined)).toThrow(/not binary/);
  });
});
