/**
 * What the Runtime needs from one served version of a model: a `ModelVersion` (an ONNX or JavaScript model with
 * its own instances and native batcher) or an `EnsembleVersion` (steps that call other models through the Runtime).
 */
import type { NativeModelStats } from '../binding.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { InferInputs, InferOptions, InferOutputs, ModelState, ModelStats } from '../api-types.js';

export interface ServedVersion {
  readonly name: string;
  readonly version: number;
  readonly state: ModelState;
  readonly reason: string;
  readonly config: ModelConfig | undefined;
  /** Never throws: failure leaves the version UNAVAILABLE with the reason. */
  load(): Promise<void>;
  infer(inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs>;
  stats(): ModelStats | undefined;
  /** `stats()`'s pending and inFlight, without the rest (cheap enough to read per response). */
  queueLoad(): { pending: number; inFlight: number };
  /** Stops accepting, lets accepted requests finish for up to `drainTimeoutMs`, then releases everything. */
  unload(drainTimeoutMs: number): Promise<void>;
  crashInstance(instance: number): void;
  nativeStats(): NativeModelStats | undefined;
  seedLatencyProfile(instance: number, points: { batchSize: number; seconds: number }[]): boolean;
}
