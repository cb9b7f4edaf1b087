/**
 * EnsembleVersion: one served version of a `platform: "ensemble"` model. It has no instances of its own: each
 * request runs the steps (ensemble-run.ts) as ordinary requests to the member models through the Runtime, so
 * every step is batched, placed and admitted by its member (a member may be another ensemble). It loads once its
 * members are loaded, and is READY only while they are.
 *
 * Lifecycle: load() (waits for the members, checks them against the steps) → infer() while READY → unload():
 * stop accepting, wait (bounded) for the requests in flight.
 */
import { CancelledError, InvalidArgumentError, InvalidInputError, ModelUnavailableError, type ServalError } from '../errors.js';
import type { ParsedModelConfig } from '../repository/parse-config.js';
import type { ModelConfig } from '../repository/model-config.js';
import { prepareOptions } from '../model/input-validation.js';
import type { ServedVersion } from '../model/served-version.js';
import type { InferInputs, InferOptions, InferOutputs, ModelState, ModelStats, RuntimeEvent } from '../api-types.js';
import { sourceError } from '../repository/validate-config.js';
import { checkEnsembleGraph, sourceLocator } from './ensemble-graph.js';
import { checkEnsembleMembers } from './ensemble-members.js';
import { checkEnsembleCycles, type ConfigReader } from './ensemble-cycles.js';
import { planEnsemble, type EnsemblePlan } from './ensemble-plan.js';
import { EnsembleRun, type StepInfer } from './ensemble-run.js';
import { EnsembleStatsRecorder } from './ensemble-stats.js';

/** What an ensemble needs from the Runtime that serves it. */
export interface EnsembleHost {
  infer: StepInfer;
  /** Resolves once `model` has finished loading (starting its load when nobody has); never rejects. */
  whenLoaded(model: string): Promise<void>;
  /** The config of the member version a step would use now (newest READY for -1); undefined when none is ready. */
  readyConfig(model: string, version: number): ModelConfig | undefined;
  /** A model's config.pbtxt as parsed (read before waiting on members, so a cycle of ensembles cannot deadlock). */
  readConfig: ConfigReader;
}

export interface EnsembleVersionOptions {
  name: string;
  version: number;
  parsed: ParsedModelConfig;
  host: EnsembleHost;
  onEvent: (e: RuntimeEvent) => void;
}

export class EnsembleVersion implements ServedVersion {
  readonly name: string;
  readonly version: number;
  config: ModelConfig | undefined;
  private ownState: ModelState = 'LOADING';
  private ownReason = '';
  private plan: EnsemblePlan | undefined;
  private recorder: EnsembleStatsRecorder | undefined;
  private inflight = 0;
  private readyAt = 0;
  private readonly members: { model: string; version: number }[];

  constructor(private readonly options: EnsembleVersionOptions) {
    this.name = options.name;
    this.version = options.version;
    this.members = options.parsed.config.ensembleScheduling!.step.map((s) => ({ model: s.modelName, version: s.modelVersion }));
  }

  /** READY while the ensemble is loaded and every member has a ready version to serve its step. */
  get state(): ModelState {
    if (this.ownState !== 'READY') return this.ownState;
    return this.unreadyMember() ? 'UNAVAILABLE' : 'READY';
  }

  get reason(): string {
    if (this.ownState !== 'READY') return this.ownReason;
    const m = this.unreadyMember();
    return m ? `member model '${m.model}'${m.version > 0 ? ` version ${m.version}` : ''} is not ready` : '';
  }

  private unreadyMember(): { model: string; version: number } | undefined {
    return this.members.find((m) => !this.options.host.readyConfig(m.model, m.version));
  }

  async load(): Promise<void> {
    const o = this.options;
    try {
      const parsed = o.parsed;
      const graph = checkEnsembleGraph(parsed.config, parsed.source);
      const where = sourceLocator(parsed.source);
      const names = [...new Set(this.members.map((m) => m.model))];
      await checkEnsembleCycles(parsed.config, o.host.readConfig, where);
      await Promise.all(names.map((n) => o.host.whenLoaded(n)));
      const configs = this.members.map((m, i) => {
        const c = o.host.readyConfig(m.model, m.version);
        if (!c) throw new ModelUnavailableError(`step ${i}: member model '${m.model}'${m.version > 0 ? ` version ${m.version}` : ''} is not ready`);
        return c;
      });
      checkEnsembleMembers(parsed.config, graph, configs, where);
      const uncertainty = parsed.config.parameters['uncertainty_output'];
      if (uncertainty !== undefined && !parsed.config.output.some((t) => t.name === uncertainty && t.dataType === 'FP32')) {
        throw sourceError(parsed.source, 'parameters["uncertainty_output"]', `names "${uncertainty}", which is not an FP32 output of the ensemble`);
      }
      this.config = parsed.config;
      this.plan = planEnsemble(parsed.config, graph);
      this.recorder = new EnsembleStatsRecorder(parsed.config, this.plan);
      this.ownState = 'READY';
      this.readyAt = performance.now();
      o.onEvent({ kind: 'model-state', model: o.name, version: o.version, state: 'READY' });
    } catch (err) {
      this.ownState = 'UNAVAILABLE';
      this.ownReason = (err as Error).message ?? String(err);
      o.onEvent({ kind: 'model-state', model: o.name, version: o.version, state: 'UNAVAILABLE', reason: this.ownReason });
    }
  }

  infer(inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs> {
    const plan = this.plan;
    const config = this.config;
    const recorder = this.recorder;
    if (this.state !== 'READY' || !plan || !config || !recorder) {
      return Promise.reject(new ModelUnavailableError(`model '${this.name}' version ${this.version} is ${this.state}${this.reason ? `: ${this.reason}` : ''}`));
    }
    const started = performance.now();
    let run: EnsembleRun;
    try {
      checkEnsembleInputs(config, inputs);
      const { priority, timeoutUs, sloUs } = prepareOptions(config, options);
      const signal = options?.signal;
      if (signal?.aborted) throw new CancelledError('request cancelled before it was queued');
      const slo = sloUs > 0 ? sloUs / 1000 : Number(config.parameters['slo_ms'] ?? 0);
      const wanted = options?.outputs?.length ? options.outputs : config.output.map((t) => t.name);
      run = new EnsembleRun(plan, inputs, {
        priority,
        ...(timeoutUs > 0 ? { timeoutAt: started + timeoutUs / 1000 } : {}),
        ...(slo > 0 ? { sloAt: started + slo } : {}),
        ...(signal ? { signal } : {}),
        outputs: wanted,
      }, this.options.host.infer, recorder);
      if (options?.handle) options.handle.cancel = () => run.cancel();
    } catch (err) {
      recorder.requestDone(started, err as ServalError);
      return Promise.reject(err);
    }
    this.inflight++;
    return run.promise.then(
      (out) => { this.inflight--; recorder.requestDone(started, undefined, out); return out; },
      (err: ServalError) => { this.inflight--; recorder.requestDone(started, err); throw err; },
    );
  }

  queueLoad(): { pending: number; inFlight: number } {
    return { pending: 0, inFlight: this.inflight };
  }

  stats(): ModelStats | undefined {
    if (!this.recorder) return undefined;
    return this.recorder.snapshot(this.name, this.version, this.state, this.inflight, this.readyAt ? (performance.now() - this.readyAt) / 1000 : 0);
  }

  async unload(drainTimeoutMs: number): Promise<void> {
    this.ownState = 'UNLOADING';
    this.options.onEvent({ kind: 'model-state', model: this.name, version: this.version, state: 'UNLOADING' });
    const deadline = performance.now() + drainTimeoutMs;
    while (this.inflight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    this.ownState = 'UNAVAILABLE';
    this.ownReason = 'unloaded';
    this.options.onEvent({ kind: 'model-state', model: this.name, version: this.version, state: 'UNAVAILABLE', reason: 'unloaded' });
  }

  crashInstance(): void {
    throw new InvalidArgumentError(`model '${this.name}' is an ensemble: it has no instances (its steps run on their members)`);
  }

  nativeStats(): undefined {
    return undefined;
  }

  seedLatencyProfile(): boolean {
    return false;
  }
}

/** Names only: types and shapes are checked by the first step that reads each input, and its error names the step. */
function checkEnsembleInputs(config: ModelConfig, inputs: InferInputs): void {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new InvalidInputError(`inputs for model '${config.name}' must be an object mapping input names to tensors`);
  }
  for (const name of Object.keys(inputs)) {
    if (!config.input.some((t) => t.name === name)) {
      throw new InvalidInputError(`unexpected input '${name}' for model '${config.name}' (expected ${config.input.map((t) => `'${t.name}'`).join(', ')})`);
    }
  }
  for (const t of config.input) {
    if (!t.optional && (inputs as Record<string, unknown>)[t.name] == null) throw new InvalidInputError(`missing input '${t.name}' of model '${config.name}'`);
  }
}
