/**
 * The only file that loads the native addon and declares its interface. Finds the `.node` built by
 * cmake-js (`npm ci` / `npm run build:native`) or node-gyp (`npm run build:gyp`), and explains how to
 * build it when neither is there.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why admission shed a request (native ShedReasonName). */
export type ShedReason = 'deadline' | 'late' | 'codel' | 'concurrency' | 'learned';

/** One row of the native policy registry (native/core/policy_registry.cc). */
export interface NativePolicyEntry { kind: 'placement' | 'admission'; name: string; description: string; decisionCost: string }

export interface NativeHistogram { bounds: number[]; counts: number[]; sum: number; count: number }

export interface NativeInstanceStats {
  index: number; kind: string; placements: number; queued: number; inflight: number; executions: number;
  busySeconds: number; restarts: number; latencyProfile: { batchSize: number; seconds: number }[]; profileErrorEwma: number;
}

export interface NativeModelStats {
  success: number; failure: Record<string, number>; inferenceCount: number; executionCount: number; pending: number;
  /** Decisions the learned policy's guard rails handed to earliest-finish-time. */
  policyFallbacks: number;
  /** The admission policy, requests it shed by reason, admitted requests not yet finished, its current limit. */
  admission: string; shed: Partial<Record<ShedReason, number>>; inFlight: number; admissionLimit: number;
  /** Mean |predicted - actual| / actual latency of admitted requests, over predictionCount requests. */
  predictionErrorMean: number; predictionCount: number;
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
  /** How long an idle executor polls for work before sleeping. */
  idleSpinUs: number;
  priorityLevels: number;
  defaultPriorityLevel: number;
  queuePolicies: NativeQueuePolicy[];
  instances: { kind: 'CPU' | 'GPU'; device: number }[];
  policy: string;
  /** The model's latency objective, handed to the placement policy (0 or absent: none). */
  sloUs?: number;
  /** Admission policy name (absent: none), and its parameters (0 or absent: defaults). */
  admission?: string;
  codelTargetUs?: number;
  codelIntervalUs?: number;
  concurrencyInitialLimit?: number;
}

export interface NativeModel {
  /**
   * Queues one request whose numbers the caller wrote into the runtime's header (src/model/completion-table.ts):
   * inputs as arguments, or as one array when the model has several. Returns the instance it was placed on
   * (its completion arrives through the runtime's completion callback), or {code, message} when it was refused.
   */
  enqueue(...inputs: unknown[]): number | { code: string; message: string };
  cancel(requestId: number, instance: number): boolean;
  /** Publishes the scheduler for HTTP threads (NativeFrontEnd.attach) and opens it to them; the same token on every call. */
  shareToken(): number;
  /** Closes it to HTTP threads: their enqueues are refused CLOSED (they hand the request to this thread). */
  unshare(): void;
  executorToken(instance: number): number;
  failInflight(instance: number, message: string): void;
  noteRestart(instance: number): void;
  close(drain: boolean): void;
  drained(): boolean;
  stats(): NativeModelStats;
  /** `stats()`'s pending and inFlight alone: a cheap call (per-response load reports, src/cluster/load-report.ts). */
  load(): { pending: number; inFlight: number };
  /** Seeds instance `instance`'s latency profile with measured batch latencies. */
  seedProfile(instance: number, batchSizes: number[], seconds: number[]): boolean;
}

/**
 * A model owned by another JS environment, reached from an HTTP thread (native/binding/front_end_wrap.h):
 * enqueue and cancel as on NativeModel; {code: 'CLOSED'} once the owner destroyed it.
 */
export type NativeModelHandle = Pick<NativeModel, 'enqueue' | 'cancel'>;

/** An HTTP thread's completion dispatcher and request header, and its way to the main thread's models. */
export interface NativeFrontEnd {
  /** The model its owner published under `shareToken`, or null when there is none any more. */
  attach(shareToken: number): NativeModelHandle | null;
  shutdown(): void;
}

export interface NativeRuntime {
  createModel(desc: NativeModelDesc): NativeModel;
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
  complete(id: number, outputs: ({ data: unknown; dims: readonly number[] } | undefined)[]): { code: string; message: string } | undefined;
  fail(id: number, message: string): void;
}

/** The simulator's description of one model (native/sim/simulator.h, SimModelSpec). */
export interface NativeSimModel {
  maxBatchSize: number;
  preferredBatchSizes?: number[];
  maxQueueDelayUs?: number;
  sloUs?: number;
  /** Hand sloUs to the policy (PlacementQuery::slo_ns). @default true */
  sloToPolicy?: boolean;
  queueTimeoutUs?: number;
  maxQueueSize?: number;
}

/** One simulated instance: its true batch-latency curve (index b-1) and noise. */
export interface NativeSimInstance {
  model: number;
  latencyUs: number[] | Float64Array;
  noiseCv?: number;
  /** What its latency profile is seeded with (index b-1, 0 = not seeded); default: the true curve at powers of two. */
  seedProfileUs?: number[];
}

/** Generated arrivals (process: poisson, constant, gamma:CV, mmpp[:...]) or a trace replay (traceS). */
export interface NativeArrivalSpec {
  process?: string;
  traceS?: number[] | Float64Array;
  rateScale?: number;
  rate?: number;
  durationS?: number;
  maxRequests?: number;
  modelWeights?: number[];
  samples?: number;
  seed?: number;
}

export type NativeSimPolicy = string | { weights: Buffer };

export interface NativeDecisionDataset { features: Float32Array; offsets: Uint32Array; labels: Uint8Array }

export interface NativeSimConfig {
  models: NativeSimModel[];
  instances: NativeSimInstance[];
  arrivals: NativeArrivalSpec | { timesS: number[] | Float64Array; models?: number[] | Uint32Array; samples?: number[] | Uint32Array };
  /** One policy for every model, or one per model. */
  policy: NativeSimPolicy | NativeSimPolicy[];
  options?: { seed?: number; decisionNs?: number; overheadUs?: number; warmupS?: number; onlineProfile?: boolean; keepLatencies?: boolean };
  /** Record features and the teacher's choice at every decision ('self': the acting policy's own). */
  record?: { teacher: string };
  /** Admission policy for every model, or one per model (absent: none); {learnedWeights}: the learned head with those weights. */
  admission?: string | { learnedWeights: Float32Array } | (string | { learnedWeights: Float32Array })[];
  admissionOptions?: { codelTargetUs?: number; codelIntervalUs?: number; initialLimit?: number };
}

export interface NativeSimResult {
  arrivals: number; ok: number; withinSlo: number; timeouts: number; rejected: number; spanS: number;
  /** Shed by admission (at arrival or from a queue), and by reason. */
  shed: number; shedByReason: Partial<Record<ShedReason, number>>;
  attainment: number; goodput: number; throughput: number;
  /** Nearest rank over every measured request; Infinity when failures reach the rank. */
  p50Ms: number; p95Ms: number; p99Ms: number; meanOkMs: number;
  meanNormLatency: number; meanBatch: number; batches: number; decisions: number; policyFallbacks: number;
  placements: Float64Array; busyFraction: Float64Array;
  /** keepLatencies: per measured request in arrival order, -1 = failed. */
  latenciesMs?: Float64Array;
  dataset?: NativeDecisionDataset;
}

/** The learned policy's weights (policy.bin), as arrays. */
export interface NativePolicyParts {
  featureMean: Float32Array; featureInvStd: Float32Array; envelopeLo: Float32Array; envelopeHi: Float32Array;
  maxErrorEwma: number; params: Float32Array;
}

export interface NativeSim {
  simulate(config: NativeSimConfig): NativeSimResult;
  generateArrivals(spec: NativeArrivalSpec): { timesS: Float64Array; models: Uint32Array };
  behaviourClone(dataset: NativeDecisionDataset, options: { epochs?: number; batchDecisions?: number; learningRate?: number; seed?: number; envelopeMargin?: number; maxErrorEwma?: number }):
    NativePolicyParts & { loss: number[]; accuracy: number[] };
  fitEnvelope(dataset: NativeDecisionDataset, margin: number): { lo: Float32Array; hi: Float32Array };
  encodePolicy(parts: NativePolicyParts): Buffer;
  decodePolicy(bytes: Buffer): NativePolicyParts;
  scoreCandidates(policy: 'learned' | Buffer, features: Float32Array, n: number, impl?: 'auto' | 'scalar' | 'avx2'): Float32Array;
  gaussianNoise(seed: number, count: number): Float32Array;
  simdAvailable: boolean;
  policyParams: number;
  policyInputs: number;
  /** Weights of the learned admission head, and the ones compiled into this build. */
  admissionFeatures: number;
  bundledAdmissionWeights: Float32Array;
}

export interface NativeAddon {
  NativeRuntime: new (
    onComplete: (records: Float64Array, buffers: (ArrayBuffer | undefined)[] | undefined, messages: string[] | undefined) => void,
    header: Float64Array,
  ) => NativeRuntime;
  NativeExecutor: new (token: number) => NativeExecutor;
  NativeFrontEnd: new (
    onComplete: (records: Float64Array, buffers: (ArrayBuffer | undefined)[] | undefined, messages: string[] | undefined) => void,
    header: Float64Array,
  ) => NativeFrontEnd;
  buildInfo(): {
    cuda: boolean; cudaDevices: number; policies: string[]; admissionPolicies: string[]; policyTable: NativePolicyEntry[];
    /** Status code names by number (completion records carry the number). */
    statusCodes: string[];
  };
  /** null when the policy registry accepts `name` (of that kind, placement by default), else why not. */
  validatePolicy(name: string, kind?: 'placement' | 'admission'): { code: string; message: string } | null;
  sim: NativeSim;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The package root (this file is at src/binding.ts or dist/src/binding.js). */
export const PACKAGE_ROOT = [resolve(here, '..'), resolve(here, '../..')].find((p) => existsSync(join(p, 'package.json')))!;

/**
 * The compiled file of a worker thread's script (`relative` to dist/, e.g. 'src/executor/executor-worker.js').
 * Workers always run the build, also when the caller runs from TypeScript sources (vitest, tsx).
 */
export function workerScript(relative: string): string {
  return join(PACKAGE_ROOT, 'dist', relative);
}

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
