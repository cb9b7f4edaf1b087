/**
 * RemoteModel: one model served by a set of replicas through serval's native scheduler. Each replica is
 * `slots` instances of a native model (the same ModelScheduler, placement and admission policies that place
 * requests on local instances), and each instance's executor is a forwarder thread that sends its batches
 * to that replica (forwarder-worker.ts). The native batcher forms batches at the router, up to the replica's
 * max_batch_size; the instance's measured latency profile is the replica's batch round trip.
 *
 * The replica set changes (DNS, ejection, probes) by generations: a new native model over the new set takes
 * new requests at once, the previous one stops accepting, answers what it accepted (its forwarders fall back
 * to other replicas for batches their own replica can no longer take), and is closed. Main thread only.
 */
import { Worker } from 'node:worker_threads';
import { workerScript, type NativeModel, type NativeModelStats, type NativeRuntime } from '../binding.js';
import { ModelUnavailableError } from '../errors.js';
import type { InferInputs, InferOptions, InferOutputs, ModelMetadata, ModelStats } from '../api-types.js';
import type { ModelConfig } from '../repository/model-config.js';
import { inputPlan } from '../model/input-validation.js';
import { enqueueRequest, type NativeTarget } from '../model/native-enqueue.js';
import type { CompletionTable } from '../model/completion-table.js';
import { nativeModelDesc, type SchedulingChoice } from '../model/native-desc.js';
import type { ForwarderWorkerData, FromForwarder, ToForwarder } from './forwarder-protocol.js';
import { MainThreadForwarding } from './main-thread-forwarding.js';

const WORKER_PATH = workerScript('src/cluster/forwarder-worker.js');

export interface RemoteModelOptions {
  native: NativeRuntime;
  /** The router's completion table (where requests to every generation settle). */
  completions: CompletionTable;
  config: ModelConfig;
  metadata: ModelMetadata;
  version: number;
  scheduling: SchedulingChoice;
  /** Native instances per replica. */
  slots: number;
  timeoutMs: number;
  drainTimeoutMs: number;
  /** The replicas' gRPC port: batches go over gRPC. @default undefined (HTTP) */
  grpcPort?: number;
  /** Forwarder threads (one per instance) or the main thread (main-thread-forwarding.ts). @default 'threads' */
  forwardOn?: 'threads' | 'main';
  onForwarderMessage(m: FromForwarder): void;
}

/** Counters of retired generations, so the model's totals never go backwards. */
interface Totals { success: number; inferenceCount: number; executionCount: number; failure: Record<string, number>; shed: Record<string, number> }

class Generation {
  readonly model: NativeModel;
  /** The native model and what a request to it needs (src/model/native-enqueue.ts). */
  readonly target: NativeTarget;
  private readonly workers: Worker[] = [];
  private stoppedCount = 0;
  private retiring = false;
  private mainThread: MainThreadForwarding | undefined;
  /** Replicas a forwarder may fall back to (the current ready set). */
  private fallbacks: string[];
  readonly startedAt = performance.now();

  constructor(private readonly o: RemoteModelOptions, readonly urls: string[]) {
    const desc = nativeModelDesc(o.config, o.version, o.scheduling);
    desc.instances = urls.flatMap(() => Array.from({ length: o.slots }, () => ({ kind: 'CPU' as const, device: 0 })));
    this.model = o.native.createModel(desc);
    this.target = {
      model: this.model, table: o.completions, plan: inputPlan(o.config), config: o.config,
      outputNames: o.config.output.map((t) => t.name),
    };
    this.fallbacks = urls;
  }

  /** Starts one forwarder per instance (threads: resolves once every thread runs). */
  async start(): Promise<void> {
    if (this.o.forwardOn === 'main') {
      const wire = (t: ModelConfig['input'][number]) => ({ name: t.name, datatype: t.dataType });
      this.mainThread = new MainThreadForwarding({
        model: this.model, modelName: this.o.config.name, instanceUrls: this.instanceUrls(),
        inputs: this.o.config.input.map(wire), outputs: this.o.config.output.map(wire), timeoutMs: this.o.timeoutMs,
        maxQueueDelayMs: (this.o.config.dynamicBatching?.maxQueueDelayMicroseconds ?? 0) / 1000, report: this.o.onForwarderMessage,
        ...(this.o.grpcPort !== undefined ? { grpcPort: this.o.grpcPort } : {}),
      });
      return;
    }
    await Promise.all(this.instanceUrls().map((url, i) => this.spawn(i, url)));
  }

  /** A request was queued (main-thread mode sends what is ready now); `answer` settles when it is done. */
  enqueued(answer: Promise<unknown>): void {
    this.mainThread?.enqueued(answer);
  }

  /** One forwarder; one that dies while the generation serves fails only its batch in flight and is replaced. */
  private spawn(i: number, url: string): Promise<void> {
    const wire = (t: ModelConfig['input'][number]) => ({ name: t.name, datatype: t.dataType });
    const data: ForwarderWorkerData = {
      token: this.model.executorToken(i), url, model: this.o.config.name,
      inputs: this.o.config.input.map(wire), outputs: this.o.config.output.map(wire),
      timeoutMs: this.o.timeoutMs, fallbacks: this.fallbacks.filter((u) => u !== url),
      ...(this.o.grpcPort !== undefined ? { grpcPort: this.o.grpcPort } : {}),
    };
    const w = new Worker(WORKER_PATH, { workerData: data });
    this.workers[i] = w;
    w.on('message', (m: FromForwarder) => {
      if (m.kind === 'stopped') this.stoppedCount++;
      else this.o.onForwarderMessage(m);
    });
    w.on('error', () => { /* 'exit' follows */ });
    w.on('exit', () => {
      this.model.failInflight(i, 'forwarder thread exited mid-batch');
      if (!this.retiring && this.workers[i] === w) void this.spawn(i, url);
    });
    return new Promise<void>((resolve) => w.once('online', () => resolve()));
  }

  instanceUrls(): string[] {
    return this.urls.flatMap((u) => Array.from({ length: this.o.slots }, () => u));
  }

  /**
   * Seeds each instance's batch-latency profile with what the previous generation measured for the same
   * replica, so a membership change does not send earliest_finish_time and learned back to the prior.
   */
  inheritProfiles(previous: Generation): void {
    const before = previous.model.stats().instances;
    const previousUrls = previous.instanceUrls();
    const seen = new Map<string, number>();
    this.instanceUrls().forEach((url, i) => {
      // Slot k of a replica inherits slot k of the same replica.
      const k = seen.get(url) ?? 0;
      seen.set(url, k + 1);
      const j = previousUrls.findIndex((u, x) => u === url && previousUrls.slice(0, x).filter((v) => v === url).length === k);
      // Only measured curves: an instance that never executed reports the flat prior.
      const points = j >= 0 && (before[j]?.executions ?? 0) > 0 ? before[j]!.latencyProfile : [];
      if (points.length) this.model.seedProfile(i, points.map((p) => p.batchSize), points.map((p) => p.seconds));
    });
  }

  setFallbacks(ready: string[]): void {
    this.fallbacks = ready;
    this.mainThread?.setFallbacks(ready);
    for (const w of this.workers) w.postMessage({ kind: 'fallbacks', urls: ready } satisfies ToForwarder);
  }

  /** Stops accepting, answers what was accepted (bounded), then ends the forwarders. */
  async retire(drainTimeoutMs: number): Promise<void> {
    this.retiring = true;
    this.model.close(true);
    const deadline = performance.now() + drainTimeoutMs;
    while (!this.model.drained() && performance.now() < deadline) {
      this.mainThread?.pump();
      await new Promise((r) => setTimeout(r, 5));
    }
    this.model.close(false);
    await this.mainThread?.close();
    while (this.stoppedCount < this.workers.length && performance.now() < deadline + 1000) await new Promise((r) => setTimeout(r, 5));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export class RemoteModel {
  readonly name: string;
  readonly version: number;
  private current: Generation | undefined;
  private readonly retiring = new Set<Generation>();
  private readonly retired: Totals = { success: 0, inferenceCount: 0, executionCount: 0, failure: {}, shed: {} };
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: RemoteModelOptions) {
    this.name = o.config.name;
    this.version = o.version;
  }

  get config(): ModelConfig {
    return this.o.config;
  }

  get metadata(): ModelMetadata {
    return this.o.metadata;
  }

  /** Ready while at least one replica serves it. */
  get ready(): boolean {
    return !this.closed && this.current !== undefined;
  }

  replicas(): string[] {
    return this.current?.urls ?? [];
  }

  /** Moves to a generation over `urls` (none: the model is unavailable until a replica is ready). Serialised. */
  setReplicas(urls: string[]): Promise<void> {
    this.pending = this.pending.then(() => this.switchTo(urls));
    return this.pending;
  }

  private async switchTo(urls: string[]): Promise<void> {
    if (this.closed) return;
    const old = this.current;
    if (old && old.urls.join(' ') === urls.join(' ')) return;
    let next: Generation | undefined;
    if (urls.length > 0) {
      next = new Generation(this.o, urls);
      if (old) next.inheritProfiles(old);
      await next.start();
    }
    this.current = next;
    for (const g of this.retiring) g.setFallbacks(urls);
    if (old) void this.retire(old, urls);
  }

  private async retire(g: Generation, ready: string[]): Promise<void> {
    this.retiring.add(g);
    g.setFallbacks(ready);
    await g.retire(this.o.drainTimeoutMs);
    const s = g.model.stats();
    this.retired.success += s.success;
    this.retired.inferenceCount += s.inferenceCount;
    this.retired.executionCount += s.executionCount;
    for (const [k, v] of Object.entries(s.failure)) this.retired.failure[k] = (this.retired.failure[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.shed)) this.retired.shed[k] = (this.retired.shed[k] ?? 0) + (v ?? 0);
    this.retiring.delete(g);
  }

  infer(inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs> {
    const g = this.current;
    if (!g || this.closed) {
      return Promise.reject(new ModelUnavailableError(`model '${this.name}': no ready replica${this.closed ? ' (router closing)' : ''}`));
    }
    const queued = enqueueRequest(g.target, inputs, options);
    g.enqueued(queued);
    return queued;
  }

  /** Each current instance's replica, executions and batch-latency profile (what EFT and learned predict from; the flat prior until it executes or inherits). */
  latencyProfiles(): { upstream: string; executions: number; profile: { batchSize: number; seconds: number }[] }[] {
    const g = this.current;
    if (!g) return [];
    const urls = g.instanceUrls();
    return g.model.stats().instances.map((i, k) => ({ upstream: urls[k]!, executions: i.executions, profile: i.latencyProfile }));
  }

  /** Totals over every generation; queue, histogram and instance figures of the current one. */
  stats(): ModelStats | undefined {
    const g = this.current;
    if (!g) return undefined;
    const s: NativeModelStats = g.model.stats();
    const t = this.retired;
    const add = (a: Record<string, number>, b: Partial<Record<string, number>>) => {
      const out = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v ?? 0);
      return out;
    };
    const urls = g.instanceUrls();
    return {
      name: this.name, version: this.version, state: 'READY',
      success: s.success + t.success, failure: add(t.failure, s.failure),
      inferenceCount: s.inferenceCount + t.inferenceCount, executionCount: s.executionCount + t.executionCount,
      pending: s.pending, policyFallbacks: s.policyFallbacks, admission: s.admission, shed: add(t.shed, s.shed),
      inFlight: s.inFlight, admissionLimit: s.admissionLimit, predictionErrorMean: s.predictionErrorMean, predictionCount: s.predictionCount,
      queueSeconds: s.queueSeconds, computeSeconds: s.computeSeconds, requestSeconds: s.requestSeconds, batchSize: s.batchSize,
      instances: s.instances.map(({ latencyProfile: _p, profileErrorEwma: _e, ...rest }, i) => ({ ...rest, kind: 'KIND_REMOTE', upstream: urls[i] })),
      uptimeSeconds: (performance.now() - g.startedAt) / 1000,
    };
  }

  async close(drainTimeoutMs: number): Promise<void> {
    await this.pending;
    this.closed = true;
    const g = this.current;
    this.current = undefined;
    await Promise.all([g?.retire(drainTimeoutMs), ...[...this.retiring].map((r) => r.retire(drainTimeoutMs))]);
  }
}
