/**
 * Public types of the embedded API (`Runtime`). Kept apart from the implementation so that the HTTP server,
 * the benchmark harness and users' code depend on the contract, not on the runtime's internals.
 */
import type { DataType, TensorData } from './dtypes.js';
import type { ModelConfig } from './repository/model-config.js';
import type { VersionDriftSummary } from './drift/drift-monitor.js';

export type { DataType, TensorData, ModelConfig };

/** A tensor as serval accepts and returns it. `data` is a typed array, or `string[]` for BYTES. */
export interface Tensor {
  /** Optional on input (taken from the model); always set on output. */
  type?: DataType;
  dims: readonly number[];
  data: TensorData;
}

export interface OutputTensor extends Tensor {
  type: DataType;
  dims: number[];
}

/** Inputs by name: serval tensors or onnxruntime-node `Tensor`s (anything with `type`, `dims`, `data`). */
export type InferInputs = Record<string, Tensor | { type: string; dims: readonly number[]; data: unknown }>;
export type InferOutputs = Record<string, OutputTensor>;

export type PolicyName =
  | 'round_robin'
  | 'weighted_round_robin'
  | 'least_outstanding'
  | 'power_of_two'
  | 'shortest_expected_delay'
  | 'earliest_finish_time'
  | 'learned'
  /** The learned policy with weights from a file written by `serval train-policy` (policy.bin). */
  | `learned:${string}`;

/**
 * Admission policy: whether and when a request runs (native/core/policy_registry.cc lists them).
 * - `none`: admit everything (Triton's behaviour: max_queue_size and queue timeouts only).
 * - `deadline`: shed at arrival when no instance is predicted to finish by the request's deadline; drop
 *   queued requests that can no longer make it; cap short queues' batches by deadline slack.
 * - `codel`: controlled delay on each instance queue, with adaptive LIFO while congested.
 * - `adaptive_concurrency`: a gradient-style adaptive limit on in-flight requests.
 * A shed request fails at once with a `ShedError` (code `SHED`; HTTP 429 with Retry-After).
 */
export type AdmissionName = 'none' | 'deadline' | 'codel' | 'adaptive_concurrency';

export interface RuntimeOptions {
  /** Path of a Triton-layout model repository. */
  modelRepository: string;
  /**
   * Placement policy for every model. `learned` runs the policy network compiled into the addon;
   * `learned:/path/policy.bin` loads trained weights (a bad file is an INVALID_ARGUMENT error).
   * @default 'least_outstanding'
   */
  policy?: PolicyName;
  /**
   * Admission policy for every model whose config.pbtxt does not set the `admission_policy` parameter.
   * Requests need a deadline for `deadline` to act: `timeoutMs`, `sloMs`, or the model's `slo_ms`.
   * @default 'none'
   */
  admission?: AdmissionName;
  /** Which models to load at open: all of them, or the names listed. @default 'all' */
  loadModels?: 'all' | 'none' | string[];
  /** ONNX Runtime intra-op threads per instance (config.pbtxt parameter `intra_op_thread_count` wins). @default 1 */
  intraOpThreads?: number;
  /** Run each model's warmup before it reports ready. @default true */
  warmup?: boolean;
  /** Called with load progress and state changes (the CLI prints these). */
  onEvent?: (event: RuntimeEvent) => void;
  /**
   * The response cache shared by every model whose config.pbtxt has `response_cache { enable: true }`
   * (`serval serve --cache-config local,size=BYTES`). Absent: no caching.
   */
  cache?: { sizeBytes: number };
}

export type RuntimeEvent =
  | { kind: 'model-state'; model: string; version: number; state: ModelState; reason?: string }
  | { kind: 'instance-restarted'; model: string; version: number; instance: number; reason: string }
  /** A KIND_GPU instance runs on a fallback provider (CUDA or CPU) because the one it asked for is not usable. */
  | { kind: 'execution-provider-fallback'; model: string; version: number; instance: number; provider: string; reason: string }
  /**
   * The default warmup (one zero-filled request, run when config.pbtxt has no `model_warmup`) failed: zeros
   * are not a valid input for every model. The instance serves anyway; a failing `model_warmup` fails the load.
   */
  | { kind: 'warmup-failed'; model: string; version: number; instance: number; reason: string }
  /** A rollout started or changed phase or weight (src/rollout/); `guard` names the guard of an automatic rollback. */
  | {
    kind: 'rollout'; model: string; strategy: 'canary' | 'ab' | 'shadow'; phase: 'progressing' | 'paused' | 'promoted' | 'rolled_back';
    stable: number; candidate: number; candidateWeight: number; reason: string; guard?: string;
  }
  /** A monitored feature drifted from its reference (src/drift/): PSI over the threshold and a significant KS test. */
  | { kind: 'drift'; model: string; version: number; tensor: string; tensorKind: 'input' | 'output'; feature: number; psi: number; ks: number; pValue: number };

export interface InferOptions {
  /** Model version; the newest ready version when omitted. */
  version?: number;
  /** Priority level, 1 is highest; 0 or omitted uses the model's default_priority_level. */
  priority?: number;
  /** Queue timeout in milliseconds (Triton's request `timeout`, which is in µs). Subject to allow_timeout_override. */
  timeoutMs?: number;
  /**
   * Latency objective of this request in milliseconds (arrival to answer); the model's `slo_ms` when
   * omitted. The request's effective deadline, which admission policies act on, is the sooner of this and
   * its queue timeout.
   */
  sloMs?: number;
  /** Cancels the request while it is still queued. */
  signal?: AbortSignal;
  /** Return only these outputs (all when omitted). */
  outputs?: string[];
  /**
   * While the model has a rollout, requests with the same key land on the same arm (A/B stickiness); the
   * v2 request parameter `routing_key`. Ignored otherwise.
   */
  routingKey?: string;
  /**
   * An object the runtime fills in as the request moves, for servers and audit trails that need to know
   * more than the outputs (and a cheaper way to cancel than `signal`: no listener per request).
   */
  handle?: RequestHandle;
}

/** See `InferOptions.handle`. Fields are set by the runtime; absent until the step that sets them. */
export interface RequestHandle {
  /** The version that serves the request (set when it is queued). */
  version?: number;
  /** Cancels the request while it is still queued (set when it is queued). */
  cancel?: () => void;
  /** The instance that ran it (set when it completes, before its promise settles). */
  instance?: number;
  /** Microseconds it waited in the queue and its batch ran (set when it completes; 0 if it never ran). */
  queueUs?: number;
  computeUs?: number;
}

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

export interface ModelVersionInfo {
  name: string;
  version: number;
  state: ModelState;
  /** Why the model is UNAVAILABLE (load error), empty otherwise. */
  reason: string;
}

export interface TensorMetadata {
  name: string;
  datatype: DataType;
  /** Full shape including the batch dimension (-1) when the model batches. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** Cumulative histogram in the Prometheus sense: counts[i] = observations <= bounds[i]; last bound is +Inf. */
export interface HistogramSnapshot {
  /** Upper bounds in seconds (or in items for the batch-size histogram). */
  bounds: number[];
  /** Non-cumulative count per bucket (same length as bounds; the last bucket is +Inf). */
  counts: number[];
  sum: number;
  count: number;
}

/** A point of a batch-latency curve: batch size and milliseconds. */
export interface DeviceCurvePoint { batchSize: number; ms: number }

/** What `rt.stats()` reports for an instance that emulates a device. */
export interface EmulatedDeviceStatus {
  /** `declared` (device_latency_model) or `calibrated` (measured once at load, for instance_slowdown alone). */
  source: 'declared' | 'calibrated';
  /** The instance's instance_slowdown factor (1 when not set). */
  slowdown: number;
  /** The curve the instance holds batches for: the declared or calibrated curve times `slowdown`. */
  curve: DeviceCurvePoint[];
  noiseCv: number;
  seed: number;
  /** Batches whose real onnxruntime run took longer than the device time: the host is slower than the declared device. */
  overruns: number;
  /** Batches held so far (the noise stream's position). */
  batches: number;
}

export interface InstanceStats {
  index: number;
  kind: string;
  /** Requests the placement policy sent to this instance. */
  placements: number;
  queued: number;
  inflight: number;
  executions: number;
  /** Seconds this instance spent executing batches. */
  busySeconds: number;
  /** Executor restarts after a crash. */
  restarts: number;
  /** Present when the instance emulates a device (config parameters device_latency_model or instance_slowdown). */
  emulatedDevice?: EmulatedDeviceStatus;
  /** The onnxruntime execution provider the instance's session runs on ('tensorrt', 'cuda' or 'cpu'). */
  executionProvider?: string;
  /** Why a KIND_GPU instance does not run on the provider it asked for (each skipped provider and its reason). */
  fallbackReason?: string;
}

export interface ModelStats {
  name: string;
  version: number;
  state: ModelState;
  success: number;
  /** Failed requests by error code (QUEUE_FULL, TIMEOUT, CANCELLED, EXECUTION_FAILED, CLOSED ...). */
  failure: Record<string, number>;
  /** Inferences: a batch of n counts n. */
  inferenceCount: number;
  /** Model executions (batches). */
  executionCount: number;
  /** Requests queued and not yet executing. */
  pending: number;
  /** Placement decisions the learned policy's guard rails handed to earliest-finish-time (0 for other policies). */
  policyFallbacks: number;
  /** The model's admission policy, and the requests it shed by reason (deadline, late, codel, concurrency). */
  admission: string;
  shed: Record<string, number>;
  /** Admitted requests not yet answered (queued or running). */
  inFlight: number;
  /** adaptive_concurrency: the current in-flight limit (0 for other policies). */
  admissionLimit: number;
  /**
   * Mean relative error |predicted - actual| / actual of the latency admission predicted at arrival, over
   * `predictionCount` answered requests (0 when no admission policy predicts).
   */
  predictionErrorMean: number;
  predictionCount: number;
  queueSeconds: HistogramSnapshot;
  computeSeconds: HistogramSnapshot;
  requestSeconds: HistogramSnapshot;
  batchSize: HistogramSnapshot;
  instances: InstanceStats[];
  /** Seconds since the model version became ready (for utilisation rates). */
  uptimeSeconds: number;
  /** Drift of this version's inputs and outputs against their reference, when the model is monitored (`drift_*` parameters). */
  drift?: VersionDriftSummary;
  /** Ensembles only: each step's requests and times, and the uncertainty output's distribution (src/ensemble/). */
  ensemble?: EnsembleStats;
  /** Models with `response_cache { enable: true }` on a runtime with a cache (src/cache/). */
  cache?: CacheStats;
}

export interface EnsembleStepStats {
  step: number;
  model: string;
  success: number;
  /** Failed step requests by error code. */
  failure: Record<string, number>;
  /** Time from the step's request to its answer. */
  seconds: HistogramSnapshot;
}

export interface EnsembleStats {
  steps: EnsembleStepStats[];
  /** The values of the output named by the ensemble's `uncertainty_output` parameter (e.g. probability_std). */
  uncertainty?: { output: string; histogram: HistogramSnapshot };
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Total seconds spent answering hits, and looking up (and filling after) misses, excluding the inference. */
  hitSeconds: number;
  missSeconds: number;
}

export interface RuntimeStats {
  policy: string;
  admission: AdmissionName;
  models: ModelStats[];
}

export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state?: ModelState;
  reason?: string;
}
