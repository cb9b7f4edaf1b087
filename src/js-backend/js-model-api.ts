/**
 * The contract of a JavaScript-backend model (`backend: "javascript"`, `<model>/<version>/model.js` or `.mjs`),
 * serval's counterpart of Triton's Python backend. The module exports:
 *
 *   initialize?(context: JsModelContext): void | Promise<void>   once per instance, before warmup
 *   execute(batch: JsBatch): JsBatchOutputs | Promise<JsBatchOutputs>   once per batch the native batcher forms
 *   finalize?(): void | Promise<void>   when the instance stops
 *
 * It runs in the instance's executor thread, never on the main thread. A batch's input arrays are views of the
 * batcher's staging memory: read them during execute(), do not keep them.
 */
import type { DataType, TensorData } from '../dtypes.js';
import type { ModelConfig } from '../repository/model-config.js';

export interface JsModelContext {
  /** The model's config (inputs, outputs, max_batch_size, parameters ...). */
  config: ModelConfig;
  /** Directory of the model version (`<repository>/<model>/<version>`), for files the model reads. */
  versionDir: string;
}

export interface JsTensor {
  type: DataType;
  /** Batch dimension first when the model batches. */
  dims: number[];
  data: TensorData;
}

export interface JsBatch {
  /** Rows in the batch (the sum of the requests' batch dimensions); 1 for a model that does not batch. */
  size: number;
  inputs: Record<string, JsTensor>;
  /** The outputs some request of the batch asked for; execute() must return at least these. */
  requestedOutputs: string[];
}

/** Per output: its data, and its dims (may be left out when every dimension is fixed in config.pbtxt). */
export type JsBatchOutputs = Record<string, { data: TensorData; dims?: readonly number[] }>;

export interface JsModelModule {
  initialize?(context: JsModelContext): unknown;
  execute(batch: JsBatch): JsBatchOutputs | Promise<JsBatchOutputs>;
  finalize?(): unknown;
}
