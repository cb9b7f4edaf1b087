/**
 * A model's tensors as the v2 metadata API names them: a batching model's shapes lead with -1 (the batch).
 * Runtime.metadata and the HTTP threads (src/server/http-thread-worker.ts) read a raw binary body by it.
 */
import type { TensorMetadata } from '../api-types.js';
import type { ModelConfig, TensorConfig } from '../repository/model-config.js';

export function tensorMetadata(config: ModelConfig, tensors: readonly TensorConfig[]): TensorMetadata[] {
  const batch = config.maxBatchSize > 0;
  return tensors.map((t) => ({ name: t.name, datatype: t.dataType, shape: batch ? [-1, ...t.dims] : [...t.dims] }));
}
