/**
 * RolloutController: one rollout between two versions of a model. It chooses the arm of every request
 * that names no version (canary weight, A/B split sticky by routing key, or all-stable plus a shadow
 * copy), records each arm's answers in the current analysis window, and on each `tick` reads the canary
 * guards: a failed guard rolls back at once, a step that passes advances, the last one promotes.
 *
 * Threads: the event loop only. Time comes from `host.now()` (milliseconds), so tests drive it with a
 * fake clock and call `tick` themselves; `start()` adds a real interval timer (unref'd).
 * After promotion every request goes to the candidate, after rollback to the stable version, until
 * another rollout replaces this one.
 */
import type { InferInputs, InferOptions, InferOutputs } from '../api-types.js';
import type { ServalError } from '../errors.js';
import { uniforms } from '../placement/seeds.js';
import { abReadout, type AbReadout } from './ab-readout.js';
import { ArmWindow, type ArmSummary } from './arm-window.js';
import { analyzeStep, type BlockPair, type GuardName, type GuardReading } from './canary-analysis.js';
import type { RolloutSpec, RolloutStrategy } from './rollout-spec.js';
import { compareOutputs, ShadowTally } from './shadow-compare.js';

export type RolloutPhase = 'progressing' | 'paused' | 'promoted' | 'rolled_back';
export type RolloutAction = 'pause' | 'resume' | 'promote' | 'rollback';
export const ACTIONS: readonly RolloutAction[] = ['pause', 'resume', 'promote', 'rollback'];

/** What a controller needs from the runtime for its model. */
export interface RolloutHost {
  /** Serves a request on one version (may throw synchronously on bad input, as Runtime.infer's routing does). */
  serve(version: number, inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs>;
  isReady(version: number): boolean;
  /** The priority level shadow copies use: the version's lowest (largest number). */
  lowestPriority(version: number): number;
  onTransition(event: RolloutTransition): void;
  now(): number;
}

export interface RolloutTransition {
  model: string;
  strategy: RolloutStrategy;
  phase: RolloutPhase;
  stable: number;
  candidate: number;
  candidateWeight: number;
  reason: string;
  /** The guard that failed, on an automatic rollback. */
  guard?: GuardName;
}

export interface TimelineEntry {
  /** Milliseconds since the rollout started. */
  atMs: number;
  event: 'start' | 'step' | 'waiting' | 'promote' | 'rollback' | 'pause' | 'resume';
  candidateWeight: number;
  phase: RolloutPhase;
  reason: string;
  guards?: GuardReading[];
}

export interface RolloutState {
  model: string;
  strategy: RolloutStrategy;
  phase: RolloutPhase;
  stable: string;
  candidate: string;
  /** Percent of the requests that name no version, per arm. */
  weights: { stable: number; candidate: number };
  /** canary: the current step (1-based) and its window. */
  step?: { index: number; of: number; elapsedSeconds: number; stepSeconds: number };
  reason: string;
  startedAt: string;
  /** Each arm over the current analysis window and since the rollout started. */
  arms: { stable: { window: ArmSummary; total: ArmSummary }; candidate: { window: ArmSummary; total: ArmSummary } };
  /** canary: the last analysis. */
  guards: GuardReading[];
  ab?: AbReadout;
  shadow?: ReturnType<ShadowTally['summary']>;
  timeline: TimelineEntry[];
}

const TIMELINE_LIMIT = 256;
/** Canary at 100%: the share of requests mirrored to the stable version (lowest priority) to keep a same-time baseline. */
const MIRROR_PERCENT = 10;

/** A routing key's bucket in [0, 100): FNV-1a, so a key lands on the same arm on every server. */
export function routingBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 10_000) / 100;
}

export class RolloutController {
  phase: RolloutPhase = 'progressing';
  private stepIndex = 0;
  private stepStart: number;
  private readonly startedAt: number;
  private readonly startedWall = new Date();
  private window: { stable: ArmWindow; candidate: ArmWindow };
  private readonly total: { stable: ArmWindow; candidate: ArmWindow };
  private guards: GuardReading[] = [];
  /** Per-block median latencies of both arms in the current window (see BlockPairs), and the block's start. */
  private blocks: BlockPair[] = [];
  private blockStart: number;
  private readonly blockMs: number;
  private reason: string;
  private shadowInFlight = 0;
  /** Requests of the stable arm not yet answered (shadow copies are shed while it is above its bound). */
  private stableInFlight = 0;
  private readonly tally = new ShadowTally();
  private readonly random: () => number;
  private readonly outputName: string | undefined;
  private readonly timeline: TimelineEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly sloMs: number | undefined;

  constructor(readonly model: string, readonly spec: RolloutSpec, private readonly host: RolloutHost) {
    this.random = spec.seed !== undefined ? uniforms(spec.seed) : Math.random;
    this.outputName = spec.metric.startsWith('output:') ? spec.metric.slice('output:'.length) : undefined;
    this.sloMs = spec.guards.sloMs;
    this.startedAt = host.now();
    this.stepStart = this.startedAt;
    this.blockStart = this.startedAt;
    this.blockMs = Math.min(250, (spec.stepSeconds * 1000) / 12);
    this.window = this.newWindows();
    this.total = this.newWindows();
    this.reason = this.startReason();
    this.note('start', this.reason);
  }

  /**
   * Reads the guards every `intervalMs` until the rollout ends or `stop()`. The default, half a time block,
   * closes each block within 1.5 of its length even when a timer fires a little early.
   */
  start(intervalMs = this.blockMs / 2): void {
    this.timer = setInterval(() => this.tick(), Math.max(10, intervalMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The candidate's share of requests that name no version, percent. */
  candidateWeight(): number {
    if (this.phase === 'promoted') return 100;
    if (this.phase === 'rolled_back') return 0;
    if (this.spec.strategy === 'shadow') return 0;
    if (this.spec.strategy === 'ab') return this.phase === 'paused' ? 0 : this.spec.weight;
    return this.spec.steps[this.stepIndex]!;
  }

  /** The arm of one request: by routing key when given (sticky), else at random by weight; never a version that is not ready. */
  choose(routingKey?: string): number {
    const { stable, candidate } = this.spec;
    const w = this.candidateWeight();
    const draw = routingKey !== undefined ? routingBucket(routingKey) : w <= 0 || w >= 100 ? 0 : this.random() * 100;
    const pick = w >= 100 || draw < w ? candidate : stable;
    const other = pick === candidate ? stable : candidate;
    return this.host.isReady(pick) || !this.host.isReady(other) ? pick : other;
  }

  /** Serves a request that names no version; the caller gets the chosen arm's answer, untouched. */
  serve(inputs: InferInputs, options: InferOptions | undefined): { version: number; outputs: Promise<InferOutputs> } {
    const version = this.choose(options?.routingKey);
    const arm = version === this.spec.candidate ? 'candidate' : 'stable';
    const t0 = this.host.now();
    let outputs: Promise<InferOutputs>;
    try {
      outputs = this.host.serve(version, inputs, options);
    } catch (err) {
      this.recordFailure(arm, t0, err);
      return { version, outputs: Promise.reject(err) };
    }
    const stable = arm === 'stable';
    if (stable) this.stableInFlight++;
    outputs.then(
      (out) => { if (stable) this.stableInFlight--; this.recordSuccess(arm, t0, out); },
      (err) => { if (stable) this.stableInFlight--; this.recordFailure(arm, t0, err); },
    );
    if (this.phase === 'progressing') {
      if (arm === 'stable' && this.spec.strategy === 'shadow') this.copy(this.spec.candidate, inputs, options, outputs);
      else if (arm === 'candidate' && this.spec.strategy === 'canary' && this.candidateWeight() >= 100 && this.random() * 100 < MIRROR_PERCENT) {
        this.copy(this.spec.stable, inputs, options, outputs);
      }
    }
    return { version, outputs };
  }

  /** Reads the guards now; a failure rolls back, a finished step advances or promotes. */
  tick(now = this.host.now()): void {
    if (this.phase !== 'progressing') return;
    if (!this.host.isReady(this.spec.candidate)) {
      this.rollback(`candidate version ${this.spec.candidate} is not loaded`);
      return;
    }
    if (this.spec.strategy !== 'canary') return;
    const { guards: g } = this.spec;
    if (now - this.blockStart >= this.blockMs) this.closeBlock(now);
    this.guards = analyzeStep(this.window.stable, this.window.candidate, g, this.blocks);
    const failed = this.guards.find((r) => r.status === 'fail');
    const step = `step ${this.stepIndex + 1}/${this.spec.steps.length} (${this.candidateWeight()}%)`;
    if (failed) {
      this.rollback(`${step}: guard ${failed.guard} failed: ${failed.detail}`, failed.guard);
      return;
    }
    if (now - this.stepStart < this.spec.stepSeconds * 1000) return;
    if (this.window.candidate.judged < g.minRequests || this.window.stable.judged < g.minRequests) {
      const waiting = `${step}: window over, waiting for ${g.minRequests} answers per arm (candidate ${this.window.candidate.judged}, stable ${this.window.stable.judged})`;
      if (this.reason !== waiting) this.note('waiting', waiting);
      this.reason = waiting;
      return;
    }
    if (this.stepIndex === this.spec.steps.length - 1) {
      this.end('promoted', `all ${this.spec.steps.length} steps passed; candidate ${this.spec.candidate} serves 100%`);
      return;
    }
    const passed = `${step} passed`;
    this.stepIndex++;
    this.rotateWindow(now);
    this.reason = `${passed}; candidate at ${this.candidateWeight()}%`;
    this.note('step', this.reason);
    this.transition();
  }

  /** A user's decision: pause (freeze the weights), resume (restart the step window), promote, or roll back. */
  control(action: RolloutAction): void {
    const terminal = this.phase === 'promoted' || this.phase === 'rolled_back';
    if (action === 'promote') return terminal ? undefined : this.end('promoted', 'promoted by the operator');
    if (action === 'rollback') return terminal ? undefined : this.rollback('rolled back by the operator');
    if (terminal) return;
    if (action === 'pause' && this.phase === 'progressing') {
      this.phase = 'paused';
      this.reason = 'paused by the operator';
      this.note('pause', this.reason);
      this.transition();
    } else if (action === 'resume' && this.phase === 'paused') {
      this.phase = 'progressing';
      this.rotateWindow(this.host.now());
      this.reason = `resumed by the operator at ${this.candidateWeight()}%`;
      this.note('resume', this.reason);
      this.transition();
    }
  }

  state(): RolloutState {
    const w = this.candidateWeight();
    const now = this.host.now();
    return {
      model: this.model,
      strategy: this.spec.strategy,
      phase: this.phase,
      stable: String(this.spec.stable),
      candidate: String(this.spec.candidate),
      weights: { stable: 100 - w, candidate: w },
      ...(this.spec.strategy === 'canary'
        ? { step: { index: this.stepIndex + 1, of: this.spec.steps.length, elapsedSeconds: Math.round(now - this.stepStart) / 1000, stepSeconds: this.spec.stepSeconds } }
        : {}),
      reason: this.reason,
      startedAt: this.startedWall.toISOString(),
      arms: {
        stable: { window: this.window.stable.summary(), total: this.total.stable.summary() },
        candidate: { window: this.window.candidate.summary(), total: this.total.candidate.summary() },
      },
      guards: this.guards,
      ...(this.spec.strategy === 'ab' ? { ab: abReadout(this.spec.metric, this.total.stable, this.total.candidate) } : {}),
      ...(this.spec.strategy === 'shadow' ? { shadow: this.tally.summary(this.shadowInFlight) } : {}),
      timeline: [...this.timeline],
    };
  }

  /**
   * Sends a copy of a request to `version` at its lowest priority, bounded by `shadow.maxInFlight` (beyond it
   * the copy is shed) and `shadow.timeoutMs`; its answer is recorded for that version's arm and never returned.
   * Shadow: the candidate's copy is compared with the stable answer. Canary at 100%: a share of the requests
   * is mirrored to the stable version, so the last step still compares both arms on the same traffic and time.
   */
  private copy(version: number, inputs: InferInputs, options: InferOptions | undefined, answered: Promise<InferOutputs>): void {
    const { shadow } = this.spec;
    const arm = version === this.spec.candidate ? 'candidate' : 'stable';
    const compare = this.spec.strategy === 'shadow';
    if (compare && shadow.copyPercent < 100 && this.random() * 100 >= shadow.copyPercent) return;
    const backedUp = compare && this.stableInFlight > shadow.maxStableInFlight;
    if (backedUp || this.shadowInFlight >= shadow.maxInFlight || !this.host.isReady(version)) {
      this.tally.shed++;
      return;
    }
    const t0 = this.host.now();
    let copied: Promise<InferOutputs>;
    try {
      copied = this.host.serve(version, inputs, {
        priority: this.host.lowestPriority(version),
        timeoutMs: shadow.timeoutMs,
        ...(options?.outputs ? { outputs: options.outputs } : {}),
      });
    } catch {
      this.tally.candidateErrors++;
      return;
    }
    this.shadowInFlight++;
    this.tally.copies++;
    void Promise.allSettled([answered, copied]).then(([a, c]) => {
      this.shadowInFlight--;
      if (c.status === 'rejected') {
        const code = (c.reason as ServalError)?.code;
        if (code === 'SHED' || code === 'TIMEOUT' || code === 'QUEUE_FULL') this.tally.shed++;
        else this.tally.candidateErrors++;
        this.recordFailure(arm, t0, c.reason);
        return;
      }
      this.recordSuccess(arm, t0, c.value);
      if (compare && a.status === 'fulfilled') this.tally.add(compareOutputs(a.value, c.value, shadow.tolerance));
    });
  }

  private recordSuccess(arm: 'stable' | 'candidate', t0: number, out: InferOutputs): void {
    const ms = this.host.now() - t0;
    this.window[arm].recordSuccess(ms, out);
    this.total[arm].recordSuccess(ms, out);
  }

  private recordFailure(arm: 'stable' | 'candidate', t0: number, err: unknown): void {
    const ms = this.host.now() - t0;
    const code = (err as ServalError)?.code;
    this.window[arm].recordFailure(ms, code);
    this.total[arm].recordFailure(ms, code);
  }

  private rotateWindow(now: number): void {
    this.window = this.newWindows();
    this.stepStart = now;
    this.blocks = [];
    this.blockStart = now;
  }

  private closeBlock(now: number): void {
    const s = this.window.stable.takeBlock();
    const c = this.window.candidate.takeBlock();
    if (s !== undefined && c !== undefined) this.blocks.push({ stable: s, candidate: c });
    this.blockStart = now;
  }

  private newWindows(): { stable: ArmWindow; candidate: ArmWindow } {
    return {
      stable: new ArmWindow(this.sloMs, this.random, this.outputName),
      candidate: new ArmWindow(this.sloMs, this.random, this.outputName),
    };
  }

  private rollback(reason: string, guard?: GuardName): void {
    this.end('rolled_back', reason, guard);
  }

  private end(phase: 'promoted' | 'rolled_back', reason: string, guard?: GuardName): void {
    this.phase = phase;
    this.reason = reason;
    this.note(phase === 'promoted' ? 'promote' : 'rollback', reason);
    this.stop();
    this.transition(guard);
  }

  private note(event: TimelineEntry['event'], reason: string): void {
    if (this.timeline.length >= TIMELINE_LIMIT) this.timeline.splice(1, 1);
    this.timeline.push({
      atMs: Math.round(this.host.now() - this.startedAt),
      event,
      candidateWeight: this.candidateWeight(),
      phase: this.phase,
      reason,
      ...(this.guards.length > 0 ? { guards: this.guards } : {}),
    });
  }

  private transition(guard?: GuardName): void {
    this.host.onTransition({
      model: this.model, strategy: this.spec.strategy, phase: this.phase, stable: this.spec.stable, candidate: this.spec.candidate,
      candidateWeight: this.candidateWeight(), reason: this.reason, ...(guard ? { guard } : {}),
    });
  }

  private startReason(): string {
    const { strategy, stable, candidate, steps, stepSeconds, weight } = this.spec;
    if (strategy === 'canary') return `canary ${stable} -> ${candidate}: step 1/${steps.length} at ${steps[0]}% for ${stepSeconds} s`;
    if (strategy === 'ab') return `A/B ${stable} vs ${candidate}: ${weight}% to the candidate`;
    return `shadow: ${candidate} gets a copy of ${this.spec.shadow.copyPercent}% of ${stable}'s traffic`;
  }
}
