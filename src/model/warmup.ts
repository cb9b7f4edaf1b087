/** The warmup steps an executor runs before its instance reports ready. */
import { join } from 'node:path';
import { toOrtType } from '../dtypes.js';
import type { WarmupStep } from '../executor/protocol.js';
import type { ModelConfig } from '../repository/model-config.js';

/**
 * config.pbtxt `model_warmup` when present: required, a failure fails the load (as in Triton). Otherwise
 * one zero-filled batch of max_batch_size (or one request for non-batching models), with variable
 * dimensions set to 1, that is not required: zeros are not a valid input for every model (a Reshape or
 * Expand whose shape is an input, an integer Mod), so its failure is reported and the model serves anyway.
 */
export function warmupSteps(config: ModelConfig, modelDir: string): WarmupStep[] {
  if (config.modelWarmup.length > 0) {
    return config.modelWarmup.map((w) => ({
      count: w.count,
      required: true,
      tensors: Object.entries(w.inputs).map(([name, t]) => ({
        name,
        ortType: toOrtType(t.dataType),
        dims: config.maxBatchSize > 0 ? [w.batchSize, ...fixed(t.dims)] : fixed(t.dims),
        fill: t.randomData ? 'random' as const : 'zero' as const,
        ...(t.inputDataFile ? { file: join(modelDir, 'warmup', t.inputDataFile) } : {}),
      })),
    }));
  }
  return [zeroBatchStep(config, config.maxBatchSize, 1)];
}

/**
 * `count` runs of one zero-filled batch of `batchSize` samples (the batch dimension is left out for
 * non-batching models), with variable dimensions set to 1.
 */
export function zeroBatchStep(config: ModelConfig, batchSize: number, count: number): WarmupStep {
  return {
    count,
    required: false,
    tensors: config.input.map((t) => ({
      name: t.name,
      ortType: toOrtType(t.dataType),
      dims: config.maxBatchSize > 0 ? [batchSize, ...fixed(t.dims)] : fixed(t.dims),
      fill: 'zero' as const,
    })),
  };
}

const fixed = (dims: readonly number[]) => dims.map((d) => (d < 0 ? 1 : d));
