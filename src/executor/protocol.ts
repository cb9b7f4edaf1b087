/** Messages between an InstanceExecutor (main thread) and its executor worker thread. */
import type { OnnxModelInfo } from '../repository/autocomplete.js';

export interface ExecutorWorkerData {
  modelFile: string;
  intraOpThreads: number;
  /** Absolute path of the addon the main thread loaded, so both threads use the same binary. */
  addonPath?: string;
}

export interface WarmupTensor { name: string; ortType: string; dims: number[]; fill: 'zero' | 'random'; file?: string }
/** `required`: a failure fails the load (config.pbtxt `model_warmup`); otherwise it is reported and serving starts. */
export interface WarmupStep { tensors: WarmupTensor[]; count: number; required: boolean }

export type ToWorker =
  | {
      kind: 'start'; token: number; inputs: { name: string; ortType: string }[]; outputs: string[]; warmup: WarmupStep[];
      /** Emulated slower device (config parameter instance_slowdown): each batch occupies the instance this many times its fastest run time at that batch size. */
      slowdown?: number;
    }
  | { kind: 'crash-on-next-batch' };

export type FromWorker =
  | { kind: 'loaded'; info: OnnxModelInfo }
  | { kind: 'load-failed'; message: string }
  | { kind: 'serving' }
  | { kind: 'warmup-failed'; message: string }
  /** A warmup step that is not required failed; serving starts anyway. */
  | { kind: 'warmup-skipped'; message: string }
  | { kind: 'stopped' };
