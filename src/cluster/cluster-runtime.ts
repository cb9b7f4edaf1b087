/**
 * ClusterRuntime: the `ServingRuntime` behind `serval route`. The same HTTP/gRPC server as `serval serve`
 * (health, metadata, config, infer, stats, metrics) serves it; each model is a RemoteModel whose native
 * instances are the replicas. Models are read from the first replica that is ready (its repository index of
 * READY models, each model's metadata and configuration), at start and every `modelRefreshSecs`.
 *
 * Lifecycle: open() waits (bounded) for a ready replica and discovers the models → infer() → close()
 * drains every model and stops discovery. Main thread only.
 */
import { request } from 'undici';
import { loadAddon, type NativeRuntime } from '../binding.js';
import { CompletionTable } from '../model/completion-table.js';
import {
  ClosedError, InvalidArgumentError, ModelUnavailableError, UnknownModelError,
} from '../errors.js';
import type {
  AdmissionName, InferInputs, InferOptions, InferOutputs, ModelMetadata, ModelVersionInfo, PolicyName, RepositoryIndexEntry, RuntimeStats,
} from '../api-types.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { ServingRuntime } from '../server/serving-runtime.js';
import { expandInstances } from '../model/native-desc.js';
import { modelConfigFromTritonJson } from './remote-config.js';
import { RemoteModel } from './remote-model.js';
import type { RouteConfig } from './route-options.js';
import { UpstreamSet, type UpstreamSetOptions, type UpstreamStatus } from './upstream-set.js';
import type { FromForwarder } from './forwarder-protocol.js';

export interface ClusterRuntimeOptions {
  config: RouteConfig;
  /** How long open() waits for the first ready replica. @default 60000 */
  startTimeoutMs?: number;
  onEvent?(e: { kind: string; url?: string; model?: string; reason?: string }): void;
  /** DNS resolution for --upstream-dns (tests substitute their own). */
  lookup?: UpstreamSetOptions['lookup'];
}

async function getJson(url: string, method: 'GET' | 'POST' = 'GET', body?: unknown): Promise<unknown> {
  const res = await request(url, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}), headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new ModelUnavailableError(`${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

export class ClusterRuntime implements ServingRuntime {
  readonly policy: PolicyName;
  readonly admission: AdmissionName;
  private readonly native: NativeRuntime;
  private readonly completions: CompletionTable;
  private readonly models_ = new Map<string, RemoteModel>();
  private upstreams!: UpstreamSet;
  private modelTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly o: ClusterRuntimeOptions) {
    const addon = loadAddon();
    const refusedPolicy = addon.validatePolicy(o.config.policy);
    if (refusedPolicy) throw new InvalidArgumentError(`placement policy '${o.config.policy}': ${refusedPolicy.message}`);
    const refusedAdmission = addon.validatePolicy(o.config.admission, 'admission');
    if (refusedAdmission) throw new InvalidArgumentError(`admission policy '${o.config.admission}': ${refusedAdmission.message}`);
    this.policy = o.config.policy as PolicyName;
    this.admission = o.config.admission as AdmissionName;
    this.completions = new CompletionTable(addon.buildInfo().statusCodes);
    this.native = new addon.NativeRuntime(this.completions.complete, this.completions.header);
  }

  static async open(options: ClusterRuntimeOptions): Promise<ClusterRuntime> {
    const rt = new ClusterRuntime(options);
    await rt.start();
    return rt;
  }

  private async start(): Promise<void> {
    const c = this.o.config;
    let first: (ready: string[]) => void = () => {};
    const firstReady = new Promise<string[]>((resolve) => { first = resolve; });
    this.upstreams = new UpstreamSet({
      urls: c.upstream, dns: c.upstreamDns, dnsRefreshMs: c.dnsRefreshSecs * 1000,
      ejectAfterFailures: c.ejectAfterFailures, probeIntervalMs: c.probeIntervalSecs * 1000,
      onChange: (ready) => {
        if (ready.length) first(ready);
        for (const m of this.models_.values()) void m.setReplicas(ready);
      },
      ...(this.o.lookup ? { lookup: this.o.lookup } : {}),
      onEvent: (e) => this.o.onEvent?.({ kind: `upstream-${e.kind}`, url: e.url, ...(e.reason ? { reason: e.reason } : {}) }),
    });
    await this.upstreams.start();
    const timeoutMs = this.o.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      firstReady,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ModelUnavailableError(`no upstream replica became ready within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    try {
      await this.discover(ready[0]!);
    } catch (err) {
      await this.upstreams.close();
      throw err;
    }
    await Promise.all([...this.models_.values()].map((m) => m.setReplicas(this.upstreams.ready())));
    this.watchModels();
  }

  /**
   * Reads the models a ready replica serves: new models are added, a model whose newest version changed
   * (a rollout) is replaced by one built from the new configuration (the old one drains). Models the replica
   * no longer lists are kept: during a rollout other replicas may still serve them.
   */
  private async discover(url: string): Promise<void> {
    const index = (await getJson(`${url}/v2/repository/index`, 'POST', { ready: true })) as RepositoryIndexEntry[];
    const names = [...new Set(index.filter((e) => e.state === 'READY').map((e) => e.name))];
    for (const name of names) {
      const path = `${url}/v2/models/${encodeURIComponent(name)}`;
      const metadata = (await getJson(path)) as ModelMetadata;
      const version = Math.max(...metadata.versions.map(Number));
      const current = this.models_.get(name);
      if (current?.version === version) continue;
      const config = modelConfigFromTritonJson(await getJson(`${path}/versions/${version}/config`), `${path}/config`);
      const model = new RemoteModel({
        native: this.native, completions: this.completions, config, metadata: { ...metadata, versions: [String(version)] }, version,
        scheduling: { policy: this.policy, admission: this.admission, admissionPolicies: loadAddon().buildInfo().admissionPolicies },
        slots: this.o.config.slotsPerUpstream ?? expandInstances(config).length,
        timeoutMs: this.o.config.upstreamTimeoutSecs * 1000,
        drainTimeoutMs: this.o.config.drainTimeoutSecs * 1000,
        forwardOn: this.o.config.forwardOn,
        ...(this.o.config.upstreamGrpcPort !== undefined ? { grpcPort: this.o.config.upstreamGrpcPort } : {}),
        onForwarderMessage: (m) => this.onForwarder(m),
      });
      if (current) {
        // Ready before it takes traffic; the previous version answers what it accepted.
        await model.setReplicas(this.upstreams.ready());
        this.models_.set(name, model);
        void current.close(this.o.config.drainTimeoutSecs * 1000);
        this.o.onEvent?.({ kind: 'model-version-changed', model: name, reason: `version ${current.version} -> ${version}` });
      } else {
        this.models_.set(name, model);
      }
    }
  }

  /** Re-reads the models every `modelRefreshSecs` from the first ready replica; a failed read changes nothing. */
  private watchModels(): void {
    const ms = this.o.config.modelRefreshSecs * 1000;
    let running = false;
    this.modelTimer = setInterval(() => {
      const url = this.upstreams.ready()[0];
      if (running || this.closed || !url) return;
      running = true;
      this.discover(url)
        .then(() => Promise.all([...this.models_.values()].map((m) => m.setReplicas(this.upstreams.ready()))))
        .catch((err: Error) => this.o.onEvent?.({ kind: 'model-refresh-failed', url, reason: err.message }))
        .finally(() => void (running = false));
    }, ms);
    this.modelTimer.unref();
  }

  private onForwarder(m: FromForwarder): void {
    if (m.kind === 'failed') this.upstreams.noteFailure(m.url, m.message);
    else if (m.kind === 'recovered') this.upstreams.noteSuccess(m.url);
    else if (m.kind === 'load') this.upstreams.noteLoad(m.url, m.report);
  }

  private model(name: string, version?: number): RemoteModel {
    const m = this.models_.get(name);
    if (!m || (version !== undefined && version !== m.version)) {
      throw new UnknownModelError(version === undefined ? `unknown model '${name}'` : `unknown model '${name}' version ${version}`);
    }
    return m;
  }

  infer(model: string, inputs: InferInputs, options?: InferOptions): Promise<InferOutputs> {
    try {
      if (this.closed) return Promise.reject(new ClosedError('the router is closed'));
      const m = this.model(model, options?.version);
      if (options?.handle) options.handle.version = m.version; // as Runtime.serve names it
      return m.infer(inputs, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  servingVersion(model: string): number | undefined {
    const m = this.models_.get(model);
    return m?.ready ? m.version : undefined;
  }

  models(): ModelVersionInfo[] {
    return [...this.models_.values()].sort((a, b) => a.name.localeCompare(b.name)).map((m) => ({
      name: m.name, version: m.version, state: m.ready ? 'READY' : 'UNAVAILABLE', reason: m.ready ? '' : 'no ready replica',
    }));
  }

  metadata(model: string, version?: number): ModelMetadata {
    return structuredClone(this.model(model, version).metadata);
  }

  config(model: string, version?: number): ModelConfig {
    return structuredClone(this.model(model, version).config);
  }

  isReady(model?: string, version?: number): boolean {
    if (this.closed) return false;
    if (model === undefined) return [...this.models_.values()].every((m) => m.ready);
    const m = this.models_.get(model);
    return !!m && m.ready && (version === undefined || version === m.version);
  }

  stats(): RuntimeStats & { upstreams: UpstreamStatus[] } {
    const models = [...this.models_.values()].map((m) => m.stats()).filter((s) => s !== undefined);
    return { policy: this.policy, admission: this.admission, models, upstreams: this.upstreams.status() };
  }

  /** Per instance of `model`: its replica and measured batch-latency profile. */
  replicaProfiles(model: string): ReturnType<RemoteModel['latencyProfiles']> {
    return this.model(model).latencyProfiles();
  }

  /** The replicas and their state (outlier detection, last load report). */
  upstreamStatus(): UpstreamStatus[] {
    return this.upstreams.status();
  }

  async repositoryIndex(): Promise<RepositoryIndexEntry[]> {
    return this.models().map((m) => ({ name: m.name, version: String(m.version), state: m.state, ...(m.reason ? { reason: m.reason } : {}) }));
  }

  loadModel(name: string): Promise<void> {
    return Promise.reject(new InvalidArgumentError(`the router does not load models ('${name}'): load it on the replicas`));
  }

  unloadModel(name: string): Promise<void> {
    return Promise.reject(new InvalidArgumentError(`the router does not unload models ('${name}'): unload it on the replicas`));
  }

  async close(options?: { drainTimeoutMs?: number }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.modelTimer);
    await this.upstreams.close();
    const ms = options?.drainTimeoutMs ?? this.o.config.drainTimeoutSecs * 1000;
    await Promise.all([...this.models_.values()].map((m) => m.close(ms)));
    this.native.shutdown();
    this.completions.failAll(() => new ClosedError('the router closed before the request completed'));
  }
}
