/**
 * Runtime: the embedded API. Opens a Triton-layout model repository, loads models (one worker thread
 * per instance, native batching and placement), and serves `infer()` without blocking the caller's
 * event loop on inference.
 */
import { loadAddon, type NativeRuntime } from './binding.js';
import {
  ClosedError, InvalidArgumentError, ModelUnavailableError, UnknownModelError,
} from './errors.js';
import { ModelRepository } from './repository/repository.js';
import type { ModelConfig } from './repository/model-config.js';
import { ModelVersion } from './model/model-version.js';
import { CompletionTable } from './model/completion-table.js';
import type { ServedVersion } from './model/served-version.js';
import type { FrontEndModel } from './model/front-end-model.js';
import { tensorMetadata } from './model/tensor-metadata.js';
import { EnsembleVersion, type EnsembleHost } from './ensemble/ensemble-version.js';
import { ENSEMBLE_PLATFORM } from './repository/parse-config.js';
import { ResponseCache } from './cache/response-cache.js';
import { TrafficRegistry } from './rollout/traffic-registry.js';
import type { RolloutState } from './rollout/rollout-controller.js';
import type { RolloutSpecInput } from './rollout/rollout-spec.js';
import { AuditTrail } from './audit/audit-trail.js';
import { explain } from './explain/explainer.js';
import { inferExplained, type ExplainedInference } from './explain/explained-infer.js';
import type { Explanation, ExplainOptions } from './explain/explain-options.js';
import type {
  AdmissionName, InferInputs, InferOptions, InferOutputs, RequestHandle, ModelMetadata, ModelVersionInfo, PolicyName, RepositoryIndexEntry,
  RuntimeEvent, RuntimeOptions, RuntimeStats,
} from './api-types.js';

const DEFAULT_POLICY: PolicyName = 'least_outstanding';
const DEFAULT_ADMISSION: AdmissionName = 'none';
const DEFAULT_DRAIN_MS = 30_000;

interface ModelEntry {
  /** Served versions, ascending. */
  versions: Map<number, ServedVersion>;
  /** Why the model could not be loaded at all (bad config, missing repository entry). */
  error?: string;
}

export class Runtime {
  readonly policy: PolicyName;
  /** The admission policy of models whose config does not choose one. */
  readonly admission: AdmissionName;
  readonly repository: ModelRepository;
  private readonly native: NativeRuntime;
  private readonly completions: CompletionTable;
  private readonly entries = new Map<string, ModelEntry>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly options: RuntimeOptions;
  private closed = false;
  private readonly watchers = new Set<() => void>();
  private requested: string[] = [];

  private readonly admissionPolicies: readonly string[];
  /** The response cache (src/cache/) of models with `response_cache { enable: true }`, when `options.cache` asks for one. */
  private readonly cache: ResponseCache | undefined;
  /** Rollouts and drift monitors (src/rollout/, src/drift/): consulted only for the models that have one. */
  readonly traffic: TrafficRegistry;
  /** The decision audit trail, when `options.audit` is set (src/audit/). */
  private audit: AuditTrail | undefined;

  private constructor(options: RuntimeOptions, policy: PolicyName, admission: AdmissionName) {
    this.options = options;
    this.policy = policy;
    this.admission = admission;
    this.admissionPolicies = loadAddon().buildInfo().admissionPolicies;
    this.repository = new ModelRepository(options.modelRepository);
    this.completions = new CompletionTable(loadAddon().buildInfo().statusCodes);
    this.native = new (loadAddon().NativeRuntime)(this.completions.complete, this.completions.header);
    this.cache = options.cache ? new ResponseCache(options.cache.sizeBytes) : undefined;
    this.traffic = new TrafficRegistry({
      serve: (model, version, inputs, opts) => this.serve(model, version, inputs, opts),
      servingVersion: (model) => this.servingVersion(model),
      isReady: (model, version) => this.entries.get(model)?.versions.get(version)?.state === 'READY',
      configOf: (model, version) => this.entries.get(model)?.versions.get(version)?.config,
      emit: (e) => this.emit(e),
    });
  }

  /** Opens the repository and loads `options.loadModels` (all by default). Models that fail to load are UNAVAILABLE. */
  static async open(options: RuntimeOptions): Promise<Runtime> {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('Runtime.open(options): options must be an object');
    if (typeof options.modelRepository !== 'string' || options.modelRepository === '') {
      throw new InvalidArgumentError('Runtime.open: modelRepository must be a non-empty path');
    }
    const policy = options.policy ?? DEFAULT_POLICY;
    const addon = loadAddon();
    const known = addon.buildInfo().policies;
    if (typeof policy !== 'string' || (!known.includes(policy) && !policy.startsWith('learned:'))) {
      throw new InvalidArgumentError(`unknown placement policy '${String(policy)}' (one of ${known.join(', ')}, or learned:FILE)`);
    }
    const refused = addon.validatePolicy(policy);
    if (refused) throw new InvalidArgumentError(`placement policy '${policy}': ${refused.message}`);
    const admission = options.admission ?? DEFAULT_ADMISSION;
    const admissions = addon.buildInfo().admissionPolicies;
    if (typeof admission !== 'string' || !admissions.includes(admission)) {
      throw new InvalidArgumentError(`unknown admission policy '${String(admission)}' (one of ${admissions.join(', ')})`);
    }
    if (options.cache !== undefined && (typeof options.cache !== 'object' || options.cache === null)) {
      throw new InvalidArgumentError('cache must be an object { sizeBytes }');
    }
    if (options.intraOpThreads !== undefined && (!Number.isSafeInteger(options.intraOpThreads) || options.intraOpThreads < 1)) {
      throw new InvalidArgumentError('intraOpThreads must be a positive integer');
    }
    const rt = new Runtime(options, policy, admission);
    if (options.audit !== undefined) {
      rt.audit = await AuditTrail.open(options.audit, { placement: policy, admission, servingVersion: (m) => rt.servingVersion(m) });
    }
    const entries = await rt.repository.list();
    const which = options.loadModels ?? 'all';
    const names = which === 'all' ? entries.map((e) => e.name) : which === 'none' ? [] : which;
    if (!Array.isArray(names)) throw new InvalidArgumentError(`loadModels must be 'all', 'none' or an array of names`);
    rt.requested = names;
    await Promise.all(names.map((n) => rt.loadModel(n).catch(() => {})));
    return rt;
  }

  /** Serves one request. Rejects with a ServalError subclass whose `code` says what went wrong. */
  infer(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs> {
    if (this.audit && !this.closed) {
      // The record takes the served version, instance and times from the request's handle.
      const opts = options?.handle ? options : { ...options, handle: {} };
      return this.audit.around(model, inputs, opts, () => this.inferUnaudited(model, inputs, opts));
    }
    return this.inferUnaudited(model, inputs, options);
  }

  /** `infer` without an audit record: the perturbed evaluations of an explanation (src/explain/) are not decisions. */
  inferUnaudited(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs> {
    try {
      if (this.closed) return Promise.reject(new ClosedError('the runtime is closed'));
      if (this.traffic.handles(model)) return this.traffic.infer(model, inputs, options).outputs;
      return this.serve(model, options?.version, inputs, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `infer`, also naming the version chosen to serve it (the HTTP and gRPC `model_version`): while a rollout
   * runs, a request that names no version is given an arm here, once. `version` is undefined when none serves.
   */
  inferServed(model: string, inputs: InferInputs, options?: InferOptions): { version: number | undefined; outputs: Promise<InferOutputs> } {
    const handle: RequestHandle = options?.handle ?? {};
    const outputs = this.infer(model, inputs, { ...options, handle });
    return { version: handle.version ?? options?.version, outputs };
  }

  /**
   * Starts (or replaces) a rollout between two READY versions of `model` (canary, A/B or shadow; see
   * src/rollout/rollout-spec.ts for the spec and its defaults) and returns its state.
   */
  rollout(model: string, spec: RolloutSpecInput): RolloutState {
    if (!this.entries.has(model)) throw new UnknownModelError(`unknown model '${model}'`);
    return this.traffic.rollout(model, spec);
  }

  /** The rollout of `model` (phase, weights, per-arm statistics, last reason), or undefined when it has none. */
  rolloutState(model: string): RolloutState | undefined {
    return this.traffic.rolloutState(model);
  }

  /** One request to `version` of `model` (the newest ready one when undefined), through its cache when it has one. */
  private serve(model: string, version: number | undefined, inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs> {
    const v = this.route(model, version);
    // The version is named here for every kind (ensembles and cache hits included), before it can change.
    if (options?.handle) options.handle.version = v.version;
    if (this.cache?.enabledFor(v)) return this.cache.infer(v, inputs, options, () => v.infer(inputs, options));
    return v.infer(inputs, options);
  }

  /**
   * Per-feature attributions (sampled permutation SHAP) of a tabular model's output for one input row,
   * computed through the runtime at low priority (src/explain/). Not an audited decision itself.
   */
  explain(model: string, inputs: InferInputs, options?: ExplainOptions): Promise<Explanation> {
    return explain(this, model, inputs, options);
  }

  /** `infer` that also returns the prediction's explanation, recorded with it in the audit trail. */
  inferExplained(model: string, inputs: InferInputs, options?: InferOptions, explainOptions?: ExplainOptions): Promise<ExplainedInference> {
    return inferExplained(this, this.audit, model, inputs, options, explainOptions);
  }

  /**
   * The version a request without an explicit version is served by now: the newest READY one; undefined when
   * none is ready. O(versions of that model), for per-request use (`models()` builds and sorts every entry).
   */
  servingVersion(model: string): number | undefined {
    const entry = this.entries.get(model);
    if (!entry) return undefined;
    let best: number | undefined;
    for (const v of entry.versions.values()) if (v.state === 'READY' && (best === undefined || v.version > best)) best = v.version;
    return best;
  }

  /**
   * The models HTTP threads may serve without this thread (src/server/threaded-transport.ts): READY ONNX and
   * JavaScript versions of models without a rollout, drift monitor or response cache, and none while an audit
   * trail records decisions (those need this thread). Ensembles are served here. Opens the versions it lists to
   * the threads and closes all others at once (their requests then come here), so call it on every change.
   */
  frontEndModels(): FrontEndModel[] {
    const out: FrontEndModel[] = [];
    for (const [name, entry] of this.entries) {
      const eligible = !this.closed && !this.audit && !this.traffic.handles(name);
      const versions: FrontEndModel['versions'] = [];
      for (const v of entry.versions.values()) {
        if (!(v instanceof ModelVersion)) continue;
        // Every other version is closed to the threads at once, before they hear of the new table.
        const token = eligible && !this.cache?.enabledFor(v) ? v.shareToken() : (v.unshare(), undefined);
        if (token !== undefined && v.config) versions.push({ version: v.version, token, config: v.config });
      }
      if (versions.length > 0) out.push({ name, serving: this.servingVersion(name), versions });
    }
    return out;
  }

  /** Every model version known to the runtime, with its state. */
  models(): ModelVersionInfo[] {
    const out: ModelVersionInfo[] = [];
    for (const [name, entry] of [...this.entries].sort(([a], [b]) => a.localeCompare(b))) {
      if (entry.versions.size === 0 && entry.error) out.push({ name, version: 0, state: 'UNAVAILABLE', reason: entry.error });
      for (const v of entry.versions.values()) out.push({ name, version: v.version, state: v.state, reason: v.reason });
    }
    return out;
  }

  metadata(model: string, version?: number): ModelMetadata {
    const v = this.route(model, version, false);
    const config = this.configOf(v);
    const entry = this.entries.get(model)!;
    return {
      name: model,
      versions: [...entry.versions.values()].filter((x) => x.state === 'READY').map((x) => String(x.version)),
      platform: config.platform,
      inputs: tensorMetadata(config, config.input),
      outputs: tensorMetadata(config, config.output),
    };
  }

  config(model: string, version?: number): ModelConfig {
    return structuredClone(this.configOf(this.route(model, version, false)));
  }

  /** Without arguments: the runtime is open and every model it was asked to load is ready. */
  isReady(model?: string, version?: number): boolean {
    if (this.closed) return false;
    if (model === undefined) return this.requested.every((n) => this.isReady(n));
    const entry = this.entries.get(model);
    if (!entry) return false;
    if (version !== undefined) return entry.versions.get(version)?.state === 'READY';
    return [...entry.versions.values()].some((v) => v.state === 'READY');
  }

  stats(): RuntimeStats {
    const models = [];
    for (const entry of this.entries.values()) {
      for (const v of entry.versions.values()) {
        const s = v.stats();
        const cache = s && this.cache?.stats(v);
        if (s) models.push(this.traffic.withDrift(cache ? { ...s, cache } : s));
      }
    }
    return { policy: this.policy, admission: this.admission, models };
  }

  async repositoryIndex(): Promise<RepositoryIndexEntry[]> {
    const entries = await this.repository.list();
    const out: RepositoryIndexEntry[] = [];
    for (const e of entries) {
      const loaded = this.entries.get(e.name);
      if (!loaded || (loaded.versions.size === 0 && !loaded.error)) { out.push({ name: e.name }); continue; }
      if (loaded.versions.size === 0) { out.push({ name: e.name, state: 'UNAVAILABLE', reason: loaded.error ?? '' }); continue; }
      for (const v of loaded.versions.values()) out.push({ name: e.name, version: String(v.version), state: v.state, reason: v.reason });
    }
    return out;
  }

  /**
   * Loads `name`, or reloads it: the versions its version_policy now serves are loaded and warmed up
   * while the current ones keep serving; then traffic moves to them and versions no longer served are
   * drained and unloaded. No request fails because of a reload. A reload in which any version fails
   * to load changes nothing that serves (Triton's rule): the current versions keep serving, the failed
   * ones are listed UNAVAILABLE with their reason, and it rejects. On a first load the versions that
   * loaded serve; it rejects (and marks the model UNAVAILABLE) when none did or the config is invalid.
   */
  loadModel(name: string): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('the runtime is closed'));
    try {
      this.repository.validateModelName(name);
    } catch (err) {
      return Promise.reject(err);
    }
    // Serialise loads of the same model.
    const previous = this.loading.get(name) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.doLoad(name));
    this.loading.set(name, next);
    return next.finally(() => { if (this.loading.get(name) === next) this.loading.delete(name); });
  }

  /** Drains and unloads every version of `name`. */
  async unloadModel(name: string, options?: { drainTimeoutMs?: number }): Promise<void> {
    this.repository.validateModelName(name);
    const entry = this.entries.get(name);
    if (!entry) throw new UnknownModelError(`unknown model '${name}'`);
    this.entries.delete(name);
    this.traffic.onUnloaded(name);
    this.requested = this.requested.filter((n) => n !== name);
    for (const v of entry.versions.values()) this.cache?.forget(v);
    await Promise.all([...entry.versions.values()].map((v) => v.unload(options?.drainTimeoutMs ?? DEFAULT_DRAIN_MS)));
  }

  /**
   * Stops accepting requests, drains every model (accepted requests settle: resolved, or rejected with
   * CLOSED when `drainTimeoutMs` passes first), and stops every executor thread.
   */
  async close(options?: { drainTimeoutMs?: number }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.traffic.close();
    await Promise.allSettled([...this.loading.values()]);
    const all = [...this.entries.values()].flatMap((e) => [...e.versions.values()]);
    await Promise.all(all.map((v) => v.unload(options?.drainTimeoutMs ?? DEFAULT_DRAIN_MS)));
    // Completions already handed to the dispatcher are settled on the next turns of the event loop.
    const deadline = performance.now() + 5000;
    while (this.completions.outstanding > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    this.native.shutdown();
    this.completions.failAll(() => new ClosedError('the runtime closed before the request completed'));
    this.entries.clear();
    await this.audit?.close();
  }

  /** The audit trail (stats, flush), when `audit` was given to `open`. */
  get auditTrail(): AuditTrail | undefined {
    return this.audit;
  }

  /** Testing only: makes the executor of `instance` exit while it holds its next batch. */
  crashInstanceForTesting(model: string, instance: number, version?: number): void {
    this.route(model, version, false).crashInstance(instance);
  }

  /** The native stats of a model version, with each instance's measured latency profile. */
  /**
   * Each version's queued and admitted-unfinished requests: what `stats()` says of them, at a fraction of its
   * cost (per-response load reports, src/cluster/load-report.ts). Versions that are not READY count zero.
   */
  queueLoad(): { name: string; version: number; pending: number; inFlight: number }[] {
    const out = [];
    for (const [name, entry] of this.entries) {
      for (const v of entry.versions.values()) if (v.state === 'READY') out.push({ name, version: v.version, ...v.queueLoad() });
    }
    return out;
  }

  profileOf(model: string, version?: number) {
    return this.route(model, version, false).nativeStats();
  }

  /**
   * Seeds the latency profile of each instance of `model` (instances[i] for instance i) with measured
   * batch latencies, e.g. from a `serval profile` file (src/placement/profile-file.ts). The runtime keeps
   * updating the profiles online from then on.
   */
  seedLatencyProfile(model: string, instances: { batchSize: number; seconds: number }[][], version?: number): void {
    const v = this.route(model, version, false);
    instances.forEach((points, i) => v.seedLatencyProfile(i, points));
  }

  private emit(e: RuntimeEvent): void {
    for (const watcher of this.watchers) watcher();
    this.options.onEvent?.(e);
  }

  /**
   * Calls `listener` (synchronously, with no arguments) whenever a runtime event is emitted: a version's state,
   * a rollout's phase, ... whatever may change `frontEndModels()`. Returns the function that stops it.
   */
  onModelsChanged(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => void this.watchers.delete(listener);
  }

  private async doLoad(name: string): Promise<void> {
    if (this.closed) throw new ClosedError('the runtime is closed');
    let parsed, versions: number[];
    try {
      parsed = await this.repository.readConfig(name);
      versions = await this.repository.versions(name, parsed);
      versions = await this.traffic.versionsToLoad(name, parsed.config.parameters, versions, this.repository.modelDir(name));
      if (versions.length === 0) throw new ModelUnavailableError(`model '${name}' has no version directory to serve`);
    } catch (err) {
      const entry: ModelEntry = this.entries.get(name) ?? { versions: new Map() };
      if (entry.versions.size === 0) {
        entry.error = (err as Error).message;
        this.entries.set(name, entry);
        this.emit({ kind: 'model-state', model: name, version: 0, state: 'UNAVAILABLE', reason: entry.error });
      }
      throw err;
    }
    const fresh = new Map<number, ServedVersion>();
    for (const version of versions) {
      this.emit({ kind: 'model-state', model: name, version, state: 'LOADING' });
      if (parsed.config.platform === ENSEMBLE_PLATFORM) {
        fresh.set(version, new EnsembleVersion({ name, version, parsed, host: this.ensembleHost, onEvent: (e) => this.emit(e) }));
        continue;
      }
      fresh.set(version, new ModelVersion({
        name, version, parsed, file: this.repository.modelFile(name, version, parsed.config), native: this.native, completions: this.completions,
        policy: this.policy, admission: this.admission, admissionPolicies: this.admissionPolicies, intraOpThreads: this.options.intraOpThreads ?? 1, warmup: this.options.warmup ?? true,
        onEvent: (e) => this.emit(e),
      }));
    }
    await Promise.all([...fresh.values()].map((v) => v.load()));
    if (this.closed) {
      await Promise.all([...fresh.values()].map((v) => v.unload(0)));
      throw new ClosedError('the runtime closed while the model was loading');
    }
    const failed = [...fresh.values()].filter((v) => v.state !== 'READY');
    const describe = () => failed.map((v) => `version ${v.version}: ${v.reason}`).join('; ');
    const old = this.entries.get(name);
    const serving = old ? [...old.versions.values()].filter((v) => v.state === 'READY') : [];
    if (failed.length > 0 && serving.length > 0) {
      // Triton's rule: a reload with a version that fails to load never replaces what serves. The old
      // versions keep serving untouched; the new ones that did load are dropped; the failed ones are
      // listed as UNAVAILABLE (with their reason) beside them unless they share a number with one that serves.
      await Promise.all([...fresh.values()].filter((v) => v.state === 'READY').map((v) => v.unload(0)));
      for (const v of failed) {
        const previous = old!.versions.get(v.version);
        if (previous?.state === 'READY') continue;
        await previous?.unload(0); // an earlier failed attempt at the same version
        old!.versions.set(v.version, v);
      }
      old!.versions = new Map([...old!.versions].sort(([a], [b]) => a - b));
      throw new ModelUnavailableError(
        `model '${name}' reload failed, versions ${serving.map((v) => v.version).join(', ')} keep serving: ${describe()}`,
      );
    }
    this.entries.set(name, { versions: fresh });
    this.traffic.onLoaded(name, parsed.config.parameters);
    if (!this.requested.includes(name)) this.requested.push(name);
    for (const v of old?.versions.values() ?? []) this.cache?.forget(v);
    if (old) await Promise.all([...old.versions.values()].map((v) => v.unload(DEFAULT_DRAIN_MS)));
    if (failed.length === fresh.size) throw new ModelUnavailableError(`model '${name}' failed to load: ${describe()}`);
  }

  /** The version that serves a request: the given one, or the newest READY one. */
  private route(model: string, version: number | undefined, requireReady = true): ServedVersion {
    if (typeof model !== 'string') throw new InvalidArgumentError('model name must be a string');
    const entry = this.entries.get(model);
    if (!entry) throw new UnknownModelError(`unknown model '${model}'`);
    if (version !== undefined) {
      if (!Number.isSafeInteger(version)) throw new InvalidArgumentError(`version must be an integer, got ${String(version)}`);
      const v = entry.versions.get(version);
      if (!v) throw new UnknownModelError(`model '${model}' has no version ${version}`);
      return v;
    }
    let pick: ServedVersion | undefined;
    let last: ServedVersion | undefined;
    for (const v of entry.versions.values()) {
      last = v;
      if (v.state === 'READY') pick = v;
    }
    pick ??= last;
    if (!pick) {
      if (requireReady) throw new ModelUnavailableError(`model '${model}' is unavailable: ${entry.error ?? 'not loaded'}`);
      throw new UnknownModelError(`model '${model}' has no loaded version${entry.error ? `: ${entry.error}` : ''}`);
    }
    return pick;
  }

  /** How ensembles (src/ensemble/) reach their members: through this runtime, like any caller. */
  private readonly ensembleHost: EnsembleHost = {
    infer: (model, inputs, options) => this.infer(model, inputs, options),
    whenLoaded: async (model) => {
      await (this.loading.get(model) ?? (this.entries.has(model) ? undefined : this.loadModel(model)))?.catch(() => {});
    },
    readyConfig: (model, version) => {
      const v = version > 0 ? this.entries.get(model)?.versions.get(version) : this.entries.get(model)?.versions.get(this.servingVersion(model) ?? -1);
      return v?.state === 'READY' ? v.config : undefined;
    },
    readConfig: async (model) => (await this.repository.readConfig(model)).config,
  };

  private configOf(v: ServedVersion): ModelConfig {
    if (!v.config) throw new ModelUnavailableError(`model '${v.name}' version ${v.version} is ${v.state}${v.reason ? `: ${v.reason}` : ''}`);
    return v.config;
  }
}

