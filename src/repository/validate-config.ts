/**
 * Rules that tie several config fields together and so can only be checked once `max_batch_size` and the
 * inputs are final: after parsing when the file sets them, otherwise after auto-complete.
 */
import { toTritonType } from '../dtypes.js';
import type { ModelConfig } from './model-config.js';
import type { ConfigSource } from './parse-config.js';
import { configError } from './schema-decoder.js';
import type { InvalidConfigError } from '../errors.js';

/** An error about the field at `path`, at the line where the file wrote it (no line when it did not). */
export function sourceError(source: ConfigSource, path: string, message: string): InvalidConfigError {
  return configError(source.file, source.lines.get(path), `field '${path}' ${message}`);
}

/** Preferred batch sizes and warmup batch sizes against `max_batch_size`. */
export function checkBatchLimits(config: ModelConfig, source: ConfigSource): void {
  const max = config.maxBatchSize;
  for (const size of config.dynamicBatching?.preferredBatchSize ?? []) {
    if (max === 0) {
      throw sourceError(source, 'dynamic_batching.preferred_batch_size', 'needs max_batch_size > 0 (the model does not batch)');
    }
    if (size > max) {
      throw sourceError(source, 'dynamic_batching.preferred_batch_size', `has ${size}, which exceeds max_batch_size ${max}`);
    }
  }
  config.modelWarmup.forEach((w, i) => {
    if (max === 0 && w.batchSize !== 1) {
      throw sourceError(source, `model_warmup[${i}].batch_size`, `must be 1 for a model that does not batch, got ${w.batchSize}`);
    }
    if (max > 0 && w.batchSize > max) {
      throw sourceError(source, `model_warmup[${i}].batch_size`, `is ${w.batchSize}, which exceeds max_batch_size ${max}`);
    }
  });
}

/** Every warmup sample feeds exactly the model's inputs (optional ones may be left out), with their types. */
export function checkWarmupInputs(config: ModelConfig, source: ConfigSource): void {
  config.modelWarmup.forEach((w, i) => {
    const path = `model_warmup[${i}].inputs`;
    for (const [name, input] of Object.entries(w.inputs)) {
      const tensor = config.input.find((t) => t.name === name);
      const entry = `${path}[${JSON.stringify(name)}]`;
      if (!tensor) throw sourceError(source, entry, `names input "${name}", which the model does not have`);
      if (tensor.dataType !== input.dataType) {
        throw sourceError(source, entry, `has data_type ${toTritonType(input.dataType)} but input "${name}" is ${toTritonType(tensor.dataType)}`);
      }
    }
    const missing = config.input.find((t) => !t.optional && !(t.name in w.inputs));
    if (missing) throw sourceError(source, `model_warmup[${i}]`, `gives no data for input "${missing.name}"`);
  });
}
