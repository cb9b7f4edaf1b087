/** Messages between an InstanceExecutor (main thread) and its executor worker thread. */
import type { OnnxModelInfo } from '../repository/autocomplete.js';
import type { EmulatedDeviceSpec } from './emulated-device.js';
import type { ProviderStatus } from './execution-providers.js';

export interface ExecutorWorkerData {
  modelFile: string;
  intraOpThreads: number;
  /** The instance's kind and GPU ordinal, and config.pbtxt's gpu_execution_accelerator names: pick the execution provider. */
  instanceKind: 'CPU' | 'GPU';
  device: number;
  gpuAccelerators: string[];
  /** Absolute path of the addon the main thread loaded, so both threads use the same binary. */
  addonPath?: string;
  /**
   * Test hook, shared memory so the serving loop needs no message: element 0 set to 1 makes the worker exit
   * while it holds its next batch.
   */
  crashFlag: Int32Array;
  /** A JavaScript-backend model (src/js-backend/): the worker runs its execute() instead of an onnxruntime session. */
  jsModel?: JsModelSpec;
}

export interface JsModelSpec {
  /** `javascript` (the user's model.js / model.mjs at `modelFile`) or a built-in backend (`uncertainty`). */
  backend: string;
  /** The model's config as parsed (inputs and outputs are declared: there is no model file to read them from). */
  config: import('../repository/model-config.js').ModelConfig;
  /** Where the thread writes when its running batch started (src/js-backend/execute-watchdog.ts), when the model has a limit. */
  batchClock?: SharedArrayBuffer;
}

/**
 * How long an idle executor thread sleeps in the native wait before it looks up (ms). Nothing is sent to a
 * serving worker as a message (the crash test hook is shared memory), so long waits cost an idle server
 * nothing but one wake-up a second per instance.
 */
export const IDLE_WAIT_MS = 1000;

/** The crash test hook (ExecutorWorkerData.crashFlag): true once per request, clearing it. */
export function takeCrashRequest(flag: Int32Array): boolean {
  return Atomics.compareExchange(flag, 0, 1, 0) === 1;
}

export interface WarmupTensor { name: string; ortType: string; dims: number[]; fill: 'zero' | 'random'; file?: string }
/** `required`: a failure fails the load (config.pbtxt `model_warmup`); otherwise it is reported and serving starts. */
export interface WarmupStep { tensors: WarmupTensor[]; count: number; required: boolean }

export type ToWorker =
  | {
      kind: 'start'; token: number; inputs: { name: string; ortType: string }[]; outputs: string[]; warmup: WarmupStep[];
      /** Emulated device (device_latency_model / instance_slowdown): each batch occupies the instance for its curve's time. */
      device?: EmulatedDeviceSpec;
    }
  /** Measure the fastest of up to `maxRuns` runs of each step (one per batch size) within `budgetMs` per step. */
  | { kind: 'calibrate'; steps: WarmupStep[]; maxRuns: number; budgetMs: number };

export type FromWorker =
  | { kind: 'loaded'; info: OnnxModelInfo; provider: ProviderStatus }
  | { kind: 'load-failed'; message: string }
  | { kind: 'serving' }
  /** The fastest run of each calibration step, in ms (same order as the steps). */
  | { kind: 'calibrated'; ms: number[] }
  | { kind: 'warmup-failed'; message: string }
  /** A warmup step that is not required failed; serving starts anyway. */
  | { kind: 'warmup-skipped'; message: string }
  | { kind: 'stopped' };
