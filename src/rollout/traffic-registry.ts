/**
 * TrafficRegistry: the Runtime's seam for traffic policies. For a model with a rollout (or drift
 * monitoring) it chooses the version of each request that names none, once, and reports it with the
 * answer, so the HTTP and gRPC layers name the arm that answered. Models without either never reach it:
 * `handles(model)` is one Map lookup (none when no model has a policy).
 *
 * It also decides what a rollout needs loaded: both arms stay served while a rollout names them,
 * whatever version_policy selects, and a reload that brings a newer version under
 * `rollout_new_versions: "canary"` keeps the serving version and starts a canary to the new one.
 */
import type { InferInputs, InferOptions, InferOutputs, ModelStats, RuntimeEvent } from '../api-types.js';
import { InvalidArgumentError, ModelUnavailableError, UnknownModelError } from '../errors.js';
import type { ModelConfig } from '../repository/model-config.js';
import { scanVersions } from '../repository/model-versions.js';
import { DriftMonitor } from '../drift/drift-monitor.js';
import { driftOptionsFromParameters, readDriftReference, type DriftReference } from '../drift/drift-options.js';
import { RolloutController, type RolloutAction, type RolloutState, ACTIONS } from './rollout-controller.js';
import { newVersionsEnterAsCanary, parseRolloutSpec, specFromParameters, type RolloutSpec } from './rollout-spec.js';

/** What the registry needs from the Runtime. */
export interface TrafficHost {
  /** Serves on the version given, or the newest ready one (Runtime's own routing). */
  serve(model: string, version: number | undefined, inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs>;
  servingVersion(model: string): number | undefined;
  isReady(model: string, version: number): boolean;
  /** The config a loaded version serves with (undefined when it has none). */
  configOf(model: string, version: number): ModelConfig | undefined;
  emit(event: RuntimeEvent): void;
}

interface ModelTraffic {
  rollout?: RolloutController;
  drift?: DriftMonitor;
}

/** Rollbacks so far, by model and guard (`manual` for the operator, `unloaded` for a lost candidate). */
export type RollbackCounts = Map<string, Map<string, number>>;

export class TrafficRegistry {
  private readonly models = new Map<string, ModelTraffic>();
  /** The version serving when a (re)load began, for the canary of a version that arrives with it. */
  private readonly servingBefore = new Map<string, number | undefined>();
  /** Drift reference files read while a model loads, taken by its monitor when the load completes. */
  private readonly references = new Map<string, DriftReference>();
  readonly rollbacks: RollbackCounts = new Map();

  constructor(private readonly host: TrafficHost, private readonly now: () => number = () => performance.now()) {}

  /** Whether `model` has a rollout or drift monitoring (then `infer` must serve it). */
  handles(model: string): boolean {
    return this.models.size !== 0 && this.models.has(model);
  }

  /** Serves a request of a handled model; `version` is the one that serves it. */
  infer(model: string, inputs: InferInputs, options: InferOptions | undefined): { version: number | undefined; outputs: Promise<InferOutputs> } {
    const t = this.models.get(model)!;
    const key = options?.routingKey;
    if (key !== undefined && typeof key !== 'string') throw new InvalidArgumentError(`routingKey must be a string, got ${typeof key}`);
    let version = options?.version;
    let outputs: Promise<InferOutputs>;
    if (version === undefined && t.rollout) {
      ({ version, outputs } = t.rollout.serve(inputs, options));
    } else {
      version ??= this.host.servingVersion(model);
      outputs = this.host.serve(model, options?.version, inputs, options);
    }
    if (t.drift && version !== undefined) t.drift.observe(version, inputs, outputs);
    return { version, outputs };
  }

  /** Starts (or replaces) the rollout of `model`. Both versions must be READY. */
  rollout(model: string, input: unknown): RolloutState {
    const spec = parseRolloutSpec(input);
    this.requireArms(model, spec);
    return this.begin(model, spec).state();
  }

  rolloutState(model: string): RolloutState | undefined {
    return this.models.get(model)?.rollout?.state();
  }

  /** Every rollout's state (metrics). */
  rolloutStates(): RolloutState[] {
    return [...this.models.values()].flatMap((t) => (t.rollout ? [t.rollout.state()] : []));
  }

  /** pause | resume | promote | rollback. */
  control(model: string, action: unknown): RolloutState {
    if (!ACTIONS.includes(action as RolloutAction)) {
      throw new InvalidArgumentError(`rollout action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
    }
    const r = this.models.get(model)?.rollout;
    if (!r) throw new UnknownModelError(`model '${model}' has no rollout`);
    r.control(action as RolloutAction);
    return r.state();
  }

  /** Ends the rollout of `model` (requests that name no version go to the newest ready one again). */
  clear(model: string): boolean {
    const t = this.models.get(model);
    if (!t?.rollout) return false;
    t.rollout.stop();
    delete t.rollout;
    if (!t.drift) this.models.delete(model);
    return true;
  }

  /** `stats` with the version's drift summary added when its model is monitored. */
  withDrift(stats: ModelStats): ModelStats {
    const drift = this.models.size === 0 ? undefined : this.models.get(stats.name)?.drift;
    const summary = drift?.summaries().find((d) => d.version === stats.version);
    return summary ? { ...stats, drift: summary } : stats;
  }

  /** Drift statistics of every monitored version. */
  driftMonitors(): DriftMonitor[] {
    return [...this.models.values()].flatMap((t) => (t.drift ? [t.drift] : []));
  }

  /**
   * The versions a (re)load of `model` serves: version_policy's `selected`, plus the arms of a running or
   * declared rollout, plus the version a finished rollout settled on, plus, under `rollout_new_versions:
   * "canary"`, the version serving now when a newer one arrives (only versions whose directory exists). Also
   * checks the rollout and drift parameters, so a bad one fails the load with its reason.
   */
  async versionsToLoad(model: string, params: Record<string, string>, selected: number[], modelDir: string): Promise<number[]> {
    const drift = driftOptionsFromParameters(params, model);
    this.references.delete(model);
    if (drift?.referenceFile) this.references.set(model, await readDriftReference(drift.referenceFile, modelDir, model));
    const keep = new Set(selected);
    const current = this.models.get(model)?.rollout;
    if (current && !isFinished(current)) {
      keep.add(current.spec.stable);
      keep.add(current.spec.candidate);
    } else if (current) {
      keep.add(winner(current));
    }
    const declared = params['rollout_strategy'] === undefined ? undefined : specFromParameters(params, model, { stable: 1, candidate: 2 });
    if (declared && params['rollout_stable'] && params['rollout_candidate']) {
      keep.add(declared.stable);
      keep.add(declared.candidate);
    }
    const serving = this.servingNow(model);
    this.servingBefore.set(model, serving);
    if (newVersionsEnterAsCanary(params) && serving !== undefined && Math.max(...selected) > serving) keep.add(serving);
    if (keep.size === selected.length) return selected;
    const available = await scanVersions(modelDir);
    return [...keep].filter((v) => available.includes(v)).sort((a, b) => a - b);
  }

  /**
   * After a (re)load: starts the declared rollout (unless one between the same versions exists) or the canary
   * of a new version (unless that version was rolled back already), and (re)creates the drift monitor.
   */
  onLoaded(model: string, params: Record<string, string>): void {
    try {
      this.afterLoad(model, params);
    } catch (err) {
      // versionsToLoad checked these parameters before the load; this is a last guard, never a crash.
      this.host.emit({ kind: 'warmup-failed', model, version: 0, instance: -1, reason: `rollout/drift parameters: ${(err as Error).message}` });
    }
  }

  private afterLoad(model: string, params: Record<string, string>): void {
    const t = this.models.get(model) ?? {};
    this.models.set(model, t);
    const previous = this.servingBefore.get(model);
    this.servingBefore.delete(model);
    const newest = this.host.servingVersion(model);
    const current = t.rollout;
    let spec: RolloutSpec | undefined;
    if (params['rollout_stable'] && params['rollout_candidate']) {
      spec = specFromParameters(params, model);
      if (current && current.spec.stable === spec?.stable && current.spec.candidate === spec.candidate) spec = undefined;
    } else if (!(current && !isFinished(current)) && newVersionsEnterAsCanary(params) && previous !== undefined && newest !== undefined && newest > previous) {
      const rejected = current?.phase === 'rolled_back' && current.spec.candidate === newest;
      if (!rejected) spec = specFromParameters({ rollout_strategy: 'canary', ...params }, model, { stable: previous, candidate: newest });
    }
    if (spec && this.host.isReady(model, spec.stable) && this.host.isReady(model, spec.candidate)) this.begin(model, spec);
    const drift = driftOptionsFromParameters(params, model);
    t.drift?.close();
    if (drift) t.drift = new DriftMonitor(model, drift, (e) => this.host.emit(e), this.references.get(model));
    else delete t.drift;
    this.references.delete(model);
    if (!t.rollout && !t.drift) this.models.delete(model);
  }

  /** The version requests naming none go to now: a finished rollout's winner, a running one's stable version, else the newest ready. */
  private servingNow(model: string): number | undefined {
    const r = this.models.get(model)?.rollout;
    if (!r) return this.host.servingVersion(model);
    return isFinished(r) ? winner(r) : r.spec.stable;
  }

  onUnloaded(model: string): void {
    const t = this.models.get(model);
    t?.rollout?.stop();
    t?.drift?.close();
    this.models.delete(model);
  }

  close(): void {
    for (const model of [...this.models.keys()]) this.onUnloaded(model);
  }

  private requireArms(model: string, spec: RolloutSpec): void {
    for (const [arm, v] of [['stable', spec.stable], ['candidate', spec.candidate]] as const) {
      if (this.host.isReady(model, v)) continue;
      throw new ModelUnavailableError(
        `rollout of '${model}': ${arm} version ${v} is not loaded and ready; a rollout needs both versions served: ` +
        'set version_policy { specific { versions: [...] } } or { latest { num_versions: 2 } } in config.pbtxt, ' +
        'or declare the rollout there (parameters rollout_stable / rollout_candidate), and reload',
      );
    }
  }

  private begin(model: string, spec: RolloutSpec): RolloutController {
    const t = this.models.get(model) ?? {};
    t.rollout?.stop();
    if (spec.guards.sloMs === undefined) {
      const slo = Number(this.host.configOf(model, spec.stable)?.parameters['slo_ms'] ?? NaN);
      if (slo > 0) spec = { ...spec, guards: { ...spec.guards, sloMs: slo } };
    }
    const controller = new RolloutController(model, spec, {
      serve: (version, inputs, options) => this.host.serve(model, version, inputs, stripRouting(options)),
      isReady: (version) => this.host.isReady(model, version),
      lowestPriority: (version) => this.host.configOf(model, version)?.dynamicBatching?.priorityLevels ?? 0,
      onTransition: (e) => {
        if (e.phase === 'rolled_back') {
          const byGuard = this.rollbacks.get(model) ?? new Map<string, number>();
          const guard = e.guard ?? (e.reason.includes('operator') ? 'manual' : 'unloaded');
          byGuard.set(guard, (byGuard.get(guard) ?? 0) + 1);
          this.rollbacks.set(model, byGuard);
        }
        this.host.emit({ kind: 'rollout', ...e });
      },
      now: this.now,
    });
    t.rollout = controller;
    this.models.set(model, t);
    controller.start();
    this.host.emit({ kind: 'rollout', model, strategy: spec.strategy, phase: controller.phase, stable: spec.stable, candidate: spec.candidate,
      candidateWeight: controller.candidateWeight(), reason: controller.state().reason });
    return controller;
  }
}

/** The routing key chooses the arm; a version's own `infer` does not take it. */
function stripRouting(options: InferOptions | undefined): InferOptions | undefined {
  if (options?.routingKey === undefined) return options;
  const { routingKey: _k, ...rest } = options;
  return rest;
}

function isFinished(r: RolloutController): boolean {
  return r.phase === 'promoted' || r.phase === 'rolled_back';
}

/** The version a finished rollout settled on. */
function winner(r: RolloutController): number {
  return r.phase === 'promoted' ? r.spec.candidate : r.spec.stable;
}
