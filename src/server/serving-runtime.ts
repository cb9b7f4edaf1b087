/**
 * What the HTTP server needs from the embedded runtime: the public surface of `Runtime`
 * (src/runtime.ts). The server depends on this contract, so tests can serve a fake.
 */
import type {
  InferInputs,
  InferOptions,
  InferOutputs,
  ModelConfig,
  ModelMetadata,
  ModelVersionInfo,
  RepositoryIndexEntry,
  RuntimeStats,
} from '../api-types.js';

export interface ServingRuntime {
  infer(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs>;
  models(): ModelVersionInfo[];
  metadata(model: string, version?: number): ModelMetadata;
  config(model: string, version?: number): ModelConfig;
  isReady(model?: string, version?: number): boolean;
  stats(): RuntimeStats;
  repositoryIndex(): Promise<RepositoryIndexEntry[]>;
  loadModel(name: string): Promise<void>;
  unloadModel(name: string): Promise<void>;
  close(options?: { drainTimeoutMs?: number }): Promise<void>;
  readonly policy: string;
}
