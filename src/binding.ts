/**
 * The only file that loads the native addon and declares its interface. Finds the `.node` built by
 * cmake-js (`npm ci` / `npm run build:native`) or node-gyp (`npm run build:gyp`), and explains how to
 * build it when neither is there.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeHistogram { bounds: number[]; counts: number[]; sum: number; count: number }

export interface NativeInstanceStats {
  index: number; kind: string; placements: number; queued: number; inflight: number; executions: number;
  busySeconds: number; restarts: number; latencyProfile: { batchSize: number; seconds: number }[]; profileErrorEwma: number;
}

export interface NativeModelStats {
  success: number; failure: Record<string, number>; inferenceCount: number; executionCount: number; pending: number;
  queueSeconds: NativeHistogram; computeSeconds: NativeHistogram; requestSeconds: NativeHistogram; batchSize: NativeHistogram;
  instances: NativeInstanceStats[];
}

export interface NativeQueuePolicy { delayOnTimeout: boolean; defaultTimeoutUs: number; allowTimeoutOverride: boolean; maxQueueSize: number }

export interface NativeModelDesc {
  name: string;
  version: number;
  maxBatchSize: number;
  inputs: { name: string; dtype: number; dims: number[] }[];
  outputs: { name: string; dtype: number; dims: number[] }[];
  preferredBatchSizes: number[];
  maxQueueDelayUs: number;
  priorityLevels: number;
  defaultPriorityLevel: number;
  queuePolicies: NativeQueuePolicy[];
  instances: { kind: 'CPU' | 'GPU'; device: number }[];
  policy: string;
}

export interface NativeModel {
  enqueue(inputs: unknown[], dims: number[][], batchSize: number, priority: number, timeoutUs: number,
          outputMask: number, requestId: number): Promise<Record<string, { type: string; dims: number[]; data: unknown }>>;
  cancel(requestId: number): boolean;
  executorToken(instance: number): number;
  failInflight(instance: number, message: string): void;
  noteRestart(instance: number): void;
  close(drain: boolean): void;
  drained(): boolean;
  stats(): NativeModelStats;
  setPolicy(name: string): void;
  policyName(): string;
}

export interface NativeRuntime {
  createModel(desc: NativeModelDesc): NativeModel;
  outstanding(): number;
  shutdown(): void;
}

export interface NativeBatch {
  id: number;
  samples: number;
  outputMask: number;
  inputs: { data: ArrayBufferView | string[]; dims: number[] }[];
}

export interface NativeExecutor {
  next(waitMs: number): NativeBatch | null | false;
  complete(id: number, outputs: ({ data: unknown; dims: readonly number[] } | undefined)[]): string | null;
  fail(id: number, message: string): void;
}

export interface NativeAddon {
  NativeRuntime: new (makeError: (code: string, message: string) => Error) => NativeRuntime;
  NativeExecutor: new (token: number) => NativeExecutor;
  buildInfo(): { cuda: boolean; cudaDevices: number; policies: string[] };
}

const here = dirname(fileURLToPath(import.meta.url));

/** The package root (this file is at src/binding.ts or dist/src/binding.js). */
export const PACKAGE_ROOT = [resolve(here, '..'), resolve(here, '../..')].find((p) => existsSync(join(p, 'package.json')))!;

/** Candidate addon paths, in order: the cmake-js build (npm ci), then the node-gyp build. */
export const ADDON_CANDIDATES = [
  join(PACKAGE_ROOT, 'build-cmake', 'Release', 'serval.node'),
  join(PACKAGE_ROOT, 'build', 'Release', 'serval.node'),
];

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const override = process.env.SERVAL_ADDON_PATH;
  const candidates = override ? [override] : ADDON_CANDIDATES;
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `serval: the native addon is not built (looked for ${candidates.join(', ')}).\n` +
      `Build it with 'npm run build:native' (cmake-js, needs cmake and a C++20 compiler) ` +
      `or 'npm run build:gyp' (node-gyp).`);
  }
  cached = require(path) as NativeAddon;
  return cached;
}
