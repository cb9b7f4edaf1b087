/**
 * ModelVersion: one loaded version of a model: its executors (one worker thread per instance), its
 * native scheduler, its state, and the entry points the Runtime routes requests to.
 *
 * Lifecycle: load() (LOADING → READY, or UNAVAILABLE with the reason) → infer() while READY →
 * unload(): stop accepting, drain what was accepted (bounded), stop the executors.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toOrtType } from '../dtypes.js';
import { CancelledError, InvalidArgumentError, ModelUnavailableError, errorFromCode, type ServalErrorCode } from '../errors.js';
import { loadAddon, type NativeModel, type NativeRuntime } from '../binding.js';
import { InstanceExecutor } from '../executor/instance-executor.js';
import { tensorRtPlanReason } from '../executor/execution-providers.js';
import { availableProviders } from '../executor/installed-providers.js';
import { autoCompleteConfig } from '../repository/autocomplete.js';
import { JS_BACKENDS, TENSORRT_MODEL_FILENAME, TENSORRT_PLATFORM, type ParsedModelConfig } from '../repository/parse-config.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { InferInputs, InferOptions, InferOutputs, ModelState, ModelStats, RuntimeEvent } from '../api-types.js';
import { inputPlan } from './input-validation.js';
import { enqueueRequest, type NativeTarget } from './native-enqueue.js';
import type { CompletionTable } from './completion-table.js';
import { EmulatedDevices } from './emulated-devices.js';
import { expandInstances, gpuSlotProblem, nativeModelDesc } from './native-desc.js';
import { warmupSteps } from './warmup.js';

export interface ModelVersionOptions {
  name: string;
  version: number;
  file: string;
  parsed: ParsedModelConfig;
  native: NativeRuntime;
  /** The runtime's slot table: where this version's requests settle. */
  completions: CompletionTable;
  policy: string;
  /** The runtime's default admission policy and the names the addon accepts. */
  admission: string;
  admissionPolicies: readonly string[];
  intraOpThreads: number;
  warmup: boolean;
  onEvent: (e: RuntimeEvent) => void;
}

/** A TensorRT plan (by platform, or a model.plan where the ONNX file is missing) cannot load: say why. */
function checkPlatform(config: ModelConfig, file: string): void {
  const plan = config.platform === TENSORRT_PLATFORM
    || (!existsSync(file) && existsSync(join(dirname(file), TENSORRT_MODEL_FILENAME)));
  if (plan) throw new ModelUnavailableError(tensorRtPlanReason(availableProviders()));
}

export class ModelVersion {
  readonly name: string;
  readonly version: number;
  state: ModelState = 'LOADING';
  reason = '';
  config: ModelConfig | undefined;
  private nativeModel: NativeModel | undefined;
  /** The native model and what its requests need (set once loaded). */
  private target: NativeTarget | undefined;
  private executors: InstanceExecutor[] = [];
  private readyAt = 0;
  private devices: EmulatedDevices | undefined;
  /** Per instance: why a KIND_GPU instance has no CUDA stream in the addon (it then has a CPU slot). */
  private slotProblems: (string | undefined)[] = [];

  constructor(private readonly options: ModelVersionOptions) {
    this.name = options.name;
    this.version = options.version;
  }

  /** Loads, warms up and starts every instance. Never throws: failure leaves the version UNAVAILABLE. */
  async load(): Promise<void> {
    const o = this.options;
    try {
      checkPlatform(o.parsed.config, o.file);
      const instances = expandInstances(o.parsed.config);
      const instanceCount = instances.length;
      const build = loadAddon().buildInfo();
      this.slotProblems = instances.map((x) => (x.kind === 'GPU' ? gpuSlotProblem(x.device, build) : undefined));
      const gpuAccelerators = o.parsed.config.optimization?.executionAccelerators.gpuExecutionAccelerator.map((a) => a.name) ?? [];
      const threads = Number(o.parsed.config.parameters['intra_op_thread_count'] ?? o.intraOpThreads);
      if (!Number.isSafeInteger(threads) || threads < 1) {
        throw new InvalidArgumentError(`model '${o.name}': parameter intra_op_thread_count must be a positive integer`);
      }
      const devices = EmulatedDevices.fromParameters(o.parsed.config.parameters, instanceCount, o.name);
      for (let i = 0; i < instanceCount; i++) {
        this.executors.push(new InstanceExecutor({
          modelFile: o.file,
          intraOpThreads: threads,
          instanceKind: instances[i]!.kind,
          device: instances[i]!.device,
          gpuAccelerators,
          ...(JS_BACKENDS.includes(o.parsed.config.backend) ? { jsModel: { backend: o.parsed.config.backend, config: o.parsed.config } } : {}),
          onCrash: (reason) => {
            this.nativeModel?.failInflight(i, reason);
            this.nativeModel?.noteRestart(i);
            o.onEvent({ kind: 'instance-restarted', model: o.name, version: o.version, instance: i, reason });
          },
          onWarmupSkipped: (reason) => o.onEvent({ kind: 'warmup-failed', model: o.name, version: o.version, instance: i, reason }),
        }));
      }
      const infos = await Promise.all(this.executors.map((e) => e.load()));
      this.executors.forEach((e, i) => {
        const reason = this.fallbackReason(i);
        if (reason) o.onEvent({ kind: 'execution-provider-fallback', model: o.name, version: o.version, instance: i, provider: e.provider?.executionProvider ?? 'cpu', reason });
      });
      const config = autoCompleteConfig(o.parsed, infos[0]!);
      this.config = config;
      await devices?.resolve(config, (msg) => this.executors[0]!.calibrate(msg));
      this.devices = devices;
      const desc = nativeModelDesc(config, o.version, { policy: o.policy, admission: o.admission, admissionPolicies: o.admissionPolicies });
      desc.instances = desc.instances.map((x, i) => (this.slotProblems[i] ? { kind: 'CPU', device: 0 } : x));
      this.nativeModel = o.native.createModel(desc);
      this.target = {
        model: this.nativeModel, table: o.completions, plan: inputPlan(config), config,
        outputNames: config.output.map((t) => t.name),
      };
      const warmup = o.warmup ? warmupSteps(config, dirname(dirname(o.file))) : [];
      const inputs = config.input.map((t) => ({ name: t.name, ortType: toOrtType(t.dataType) }));
      const outputs = config.output.map((t) => t.name);
      await Promise.all(this.executors.map((e, i) =>
        e.serve({ kind: 'start', token: this.nativeModel!.executorToken(i), inputs, outputs, warmup, device: devices?.spec(i) })));
      this.state = 'READY';
      this.readyAt = performance.now();
      o.onEvent({ kind: 'model-state', model: o.name, version: o.version, state: 'READY' });
    } catch (err) {
      this.state = 'UNAVAILABLE';
      this.reason = (err as Error).message ?? String(err);
      o.onEvent({ kind: 'model-state', model: o.name, version: o.version, state: 'UNAVAILABLE', reason: this.reason });
      await this.stopExecutors(0);
    }
  }

  /** Queues one request; `options.handle` is filled in as it moves (api-types.ts RequestHandle). */
  infer(inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs> {
    const model = this.nativeModel;
    if (this.state !== 'READY' || !model || !this.config) {
      const why = this.state === 'UNAVAILABLE' ? `: ${this.reason}` : '';
      return Promise.reject(new ModelUnavailableError(`model '${this.name}' version ${this.version} is ${this.state}${why}`));
    }
    return enqueueRequest(this.target!, inputs, options);
  }

  /**
   * Opens this version to HTTP threads and returns the token they reach its scheduler by (NativeModel.shareToken);
   * undefined unless READY. `unshare` closes it again: their requests then come to this thread.
   */
  shareToken(): number | undefined {
    return this.state === 'READY' ? this.nativeModel?.shareToken() : undefined;
  }

  unshare(): void {
    this.nativeModel?.unshare();
  }

  /** Test hook: the executor of `instance` dies holding its next batch. */
  crashInstance(instance: number): void {
    this.executors[instance]?.crashOnNextBatch();
  }

  stats(): ModelStats | undefined {
    if (!this.nativeModel) return undefined;
    const s = this.nativeModel.stats();
    return {
      name: this.name,
      version: this.version,
      state: this.state,
      success: s.success,
      failure: s.failure,
      inferenceCount: s.inferenceCount,
      executionCount: s.executionCount,
      pending: s.pending,
      policyFallbacks: s.policyFallbacks,
      admission: s.admission,
      shed: { ...s.shed },
      inFlight: s.inFlight,
      admissionLimit: s.admissionLimit,
      predictionErrorMean: s.predictionErrorMean,
      predictionCount: s.predictionCount,
      queueSeconds: s.queueSeconds,
      computeSeconds: s.computeSeconds,
      requestSeconds: s.requestSeconds,
      batchSize: s.batchSize,
      instances: s.instances.map(({ latencyProfile: _p, profileErrorEwma: _e, ...rest }, i) => ({
        ...rest,
        ...(this.devices ? { emulatedDevice: this.devices.status(i) } : {}),
        ...this.providerFields(i),
        // A KIND_GPU instance without a CUDA slot in the addon is still the instance the config asked for.
        ...(this.slotProblems[i] ? { kind: 'KIND_GPU' } : {}),
      })),
      uptimeSeconds: this.readyAt ? (performance.now() - this.readyAt) / 1000 : 0,
    };
  }

  /** Why instance `i` does not run where it asked to (provider fallbacks, then the addon's GPU slot), if it does not. */
  private fallbackReason(i: number): string | undefined {
    const reasons = [this.executors[i]?.provider?.fallbackReason, this.slotProblems[i]].filter((r) => r);
    return reasons.length ? reasons.join('; ') : undefined;
  }

  private providerFields(i: number): { executionProvider?: string; fallbackReason?: string } {
    const provider = this.executors[i]?.provider;
    if (!provider) return {};
    const reason = this.fallbackReason(i);
    return { executionProvider: provider.executionProvider, ...(reason ? { fallbackReason: reason } : {}) };
  }

  queueLoad(): { pending: number; inFlight: number } {
    return this.nativeModel?.load() ?? { pending: 0, inFlight: 0 };
  }

  /** The native stats including each instance's latency profile (for `serval profile`). */
  nativeStats() {
    return this.nativeModel?.stats();
  }

  /** Seeds instance `instance`'s latency profile with measured points (from a `serval profile` file). */
  seedLatencyProfile(instance: number, points: { batchSize: number; seconds: number }[]): boolean {
    return this.nativeModel?.seedProfile(instance, points.map((p) => p.batchSize), points.map((p) => p.seconds)) ?? false;
  }

  /**
   * Stops accepting, lets queued and in-flight requests finish for up to `drainTimeoutMs`, then rejects
   * what is still queued (CLOSED) and stops the executors. Every accepted request settles.
   */
  async unload(drainTimeoutMs: number): Promise<void> {
    if (this.state === 'UNAVAILABLE' && !this.nativeModel) return;
    this.state = 'UNLOADING';
    this.options.onEvent({ kind: 'model-state', model: this.name, version: this.version, state: 'UNLOADING' });
    const model = this.nativeModel;
    if (model) {
      model.close(true);
      const deadline = performance.now() + drainTimeoutMs;
      while (!model.drained() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      model.close(false);
    }
    await this.stopExecutors(Math.max(100, drainTimeoutMs));
    if (model) for (let i = 0; i < this.executors.length; i++) model.failInflight(i, 'model unloaded while the batch ran');
    this.state = 'UNAVAILABLE';
    this.reason = 'unloaded';
    this.options.onEvent({ kind: 'model-state', model: this.name, version: this.version, state: 'UNAVAILABLE', reason: 'unloaded' });
  }

  private async stopExecutors(timeoutMs: number): Promise<void> {
    await Promise.all(this.executors.map((e) => e.stop(timeoutMs)));
  }
}

