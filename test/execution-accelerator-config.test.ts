// config.pbtxt `optimization { execution_accelerators { gpu_execution_accelerator } }` and the tensorrt_plan
// platform: what is accepted, what is rejected (file:line, INVALID_CONFIG), and what GET .../config echoes.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../src/repository/parse-config.js';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { tritonModelConfig } from '../src/server/model-config-json.js';
import { modelConfigMessage } from '../src/server/grpc/model-config-message.js';
import { protoDirectory } from '../src/server/grpc/proto.js';
import { caught } from './helpers/caught.js';

const FILE = 'models/m/config.pbtxt';
const parse = (text: string) => parseModelConfig(text, { file: FILE, modelName: 'm' }).config;

describe('optimization.execution_accelerators', () => {
  const TRT = 'optimization { execution_accelerators {\n  gpu_execution_accelerator: [ { name: "tensorrt" } ]\n} }';

  it('accepts TensorRT as a GPU accelerator and echoes it in Triton JSON', () => {
    const config = parse(TRT);
    expect(config.optimization).toEqual({ executionAccelerators: { gpuExecutionAccelerator: [{ name: 'tensorrt' }] } });
    expect(tritonModelConfig(config)['optimization']).toEqual({ execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt' }] } });
  });

  it('echoes it over gRPC too: ModelConfig.optimization survives the wire', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(protoDirectory(), target);
    root.loadSync(['model_config.proto'], { keepCase: true });
    const type = root.lookupType('inference.ModelConfig');
    const wire = type.encode(type.fromObject(modelConfigMessage(parse(TRT)))).finish();
    const back = type.toObject(type.decode(wire)) as { optimization?: unknown };
    expect(back.optimization).toEqual({ execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt' }] } });
    expect(modelConfigMessage(parse('max_batch_size: 1'))).not.toHaveProperty('optimization');
  });

  it('leaves optimization out when the config has none', () => {
    expect(parse('max_batch_size: 1').optimization).toBeUndefined();
    expect(tritonModelConfig(parse('max_batch_size: 1'))).not.toHaveProperty('optimization');
  });

  it.each([
    ['an unknown accelerator', 'optimization { execution_accelerators {\n gpu_execution_accelerator: [ { name: "openvino" } ] } }', 2,
      `field 'optimization.execution_accelerators.gpu_execution_accelerator[0].name' must be one of "tensorrt", got "openvino"`],
    ['an accelerator without name', 'optimization { execution_accelerators { gpu_execution_accelerator: [ {} ] } }', 1, "gpu_execution_accelerator[0].name' is required"],
    ['accelerator parameters', 'optimization { execution_accelerators { gpu_execution_accelerator: [ { name: "tensorrt"\n parameters { key: "precision_mode" value: "FP16" } } ] } }', 2,
      "is a Triton feature serval does not support"],
    ['a CPU accelerator', 'optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } }', 1, "is a Triton feature serval does not support"],
    ['a misspelt optimization field', 'optimization {\n execution_acelerators { } }', 2, "unknown field 'execution_acelerators' in ModelOptimizationPolicy"],
    ['optimization.cuda graphs', 'optimization { cuda { graphs: true } }', 1, "field 'optimization.cuda' is a Triton feature serval does not support"],
  ])('rejects %s', (_case, text, line, message) => {
    const err = caught(() => parse(text));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(`${FILE}:${line}: `);
    expect(err.message).toContain(message);
  });
});

describe('platform tensorrt_plan', () => {
  it('is accepted with the tensorrt backend and model.plan as its file', () => {
    expect(parse('platform: "tensorrt_plan"')).toMatchObject({ platform: 'tensorrt_plan', backend: 'tensorrt', defaultModelFilename: 'model.plan' });
    expect(parse('backend: "tensorrt"')).toMatchObject({ platform: 'tensorrt_plan', backend: 'tensorrt' });
  });

  it.each([
    ['a mismatched backend', 'platform: "tensorrt_plan"\nbackend: "onnxruntime"', 2, `field 'backend' must be "tensorrt" for platform "tensorrt_plan"`],
    ['another platform', 'platform: "pytorch_libtorch"', 1, `field 'platform' must be "onnxruntime_onnx", "tensorrt_plan" or "ensemble", got "pytorch_libtorch"`],
  ])('rejects %s', (_case, text, line, message) => {
    const err = caught(() => parse(text));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(`${FILE}:${line}: ${message}`);
  });
});
