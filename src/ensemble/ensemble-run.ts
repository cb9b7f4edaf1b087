/**
 * One ensemble request in flight: starts each step as soon as every tensor it reads exists (fan-out steps run
 * concurrently, a fan-in step waits for all of its producers), hands each step's output arrays to the next
 * steps as they are (no copy here; the Runtime copies inputs once when a step is enqueued), and settles once:
 * with the ensemble's outputs, or with the first failure, named by its step. The caller's AbortSignal and the
 * request's deadline cancel the steps still queued. A failed step does not cancel its siblings (their answers are
 * dropped): an AbortSignal on every step request would cost more CPU than the ensemble itself (measured: 40 µs
 * per request on the 3-step pipeline), so steps carry one only when the caller gave one or set a timeout.
 */
import { CancelledError, TimeoutError, errorFromCode, type ServalError, type ServalErrorCode } from '../errors.js';
import type { InferInputs, InferOptions, InferOutputs, RequestHandle } from '../api-types.js';
import type { EnsemblePlan } from './ensemble-plan.js';

/** What a step calls: the Runtime's `infer` (the member's own batcher, placement and admission). */
export type StepInfer = (model: string, inputs: InferInputs, options: InferOptions) => Promise<InferOutputs>;

export interface RunOptions {
  priority: number;
  /** Absolute `performance.now()` times; undefined when the request has none. */
  timeoutAt?: number;
  sloAt?: number;
  signal?: AbortSignal;
  /** Ensemble outputs to return. */
  outputs: readonly string[];
}

export interface StepObserver {
  stepDone(step: number, seconds: number, error?: ServalError): void;
}

type Tensor = InferOutputs[string];

export class EnsembleRun {
  readonly promise: Promise<InferOutputs>;
  private resolve!: (o: InferOutputs) => void;
  private reject!: (e: Error) => void;
  /** The request's tensors by slot (EnsemblePlan). */
  private readonly tensors: (Tensor | undefined)[];
  private readonly waiting: number[];
  private left: number;
  private settled = false;
  /** Per step: filled in by the runtime while the step is queued; `cancel` withdraws it. */
  private readonly stepHandles: (RequestHandle | undefined)[];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private onAbort: (() => void) | undefined;

  constructor(private readonly plan: EnsemblePlan, inputs: InferInputs, private readonly options: RunOptions,
              private readonly infer: StepInfer, private readonly observer: StepObserver) {
    this.promise = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    this.tensors = new Array<Tensor | undefined>(plan.slots);
    for (const [name, slot] of plan.inputs) this.tensors[slot] = (inputs as Record<string, Tensor | undefined>)[name];
    this.waiting = plan.graph.dependsOn.map((d) => d.length);
    this.left = plan.steps.length;
    // Queued steps are withdrawn through their request handles when the run fails (deadline, a failed step,
    // the caller's signal or cancel()): no AbortController or listener per step.
    this.stepHandles = new Array<RequestHandle | undefined>(plan.steps.length);
    const signal = options.signal;
    if (signal) {
      this.onAbort = () => this.fail(new CancelledError(`ensemble '${plan.name}' cancelled by the caller`));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    if (options.timeoutAt !== undefined) {
      this.timer = setTimeout(() => this.fail(new TimeoutError(`ensemble '${plan.name}' did not finish within its timeout`)),
        Math.max(0, options.timeoutAt - performance.now()));
    }
    for (let i = 0; i < this.waiting.length; i++) if (this.waiting[i] === 0) this.start(i);
  }

  private start(i: number): void {
    if (this.settled) return;
    const step = this.plan.steps[i]!;
    const feeds: InferInputs = {};
    for (const [memberInput, tensor] of step.inputs) {
      const t = this.tensors[tensor];
      if (t !== undefined) feeds[memberInput] = t;  // an optional ensemble input left out
    }
    const now = performance.now();
    const { timeoutAt, sloAt } = this.options;
    if (timeoutAt !== undefined && timeoutAt <= now) {
      return this.fail(this.stepError(i, new TimeoutError('the ensemble deadline passed before the step started')));
    }
    // Every field present (undefined = the member's default), so every step request has one object shape.
    const opts: InferOptions = {
      priority: this.options.priority,
      outputs: step.fetch,
      version: step.version > 0 ? step.version : undefined,
      timeoutMs: timeoutAt === undefined ? undefined : timeoutAt - now,
      sloMs: sloAt === undefined ? undefined : Math.max(0.001, sloAt - now),
      handle: (this.stepHandles[i] = {}),
    };
    let pending: Promise<InferOutputs>;
    try {
      pending = this.infer(step.model, feeds, opts);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (out) => this.stepDone(i, out, now),
      (err: ServalError) => {
        const e = this.stepError(i, err);
        this.observer.stepDone(i, (performance.now() - now) / 1000, e);
        this.fail(e);
      },
    );
  }

  private stepDone(i: number, out: InferOutputs, started: number): void {
    this.observer.stepDone(i, (performance.now() - started) / 1000);
    if (this.settled) return;
    for (const [memberOutput, slot] of this.plan.steps[i]!.outputs) this.tensors[slot] = out[memberOutput];
    this.left--;
    for (const d of this.plan.graph.dependents[i]!) if (--this.waiting[d]! === 0) this.start(d);
    if (this.left === 0) this.finish();
  }

  private finish(): void {
    const result: InferOutputs = {};
    for (const name of this.options.outputs) result[name] = this.tensors[this.plan.outputs.get(name)!]!;
    this.cleanup();
    this.resolve(result);
  }

  /** Cancels the whole request (its client went away): queued steps are withdrawn, the promise rejects CANCELLED. */
  cancel(): void {
    this.fail(new CancelledError(`ensemble '${this.plan.name}' cancelled by the caller`));
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.cleanup();
    for (const h of this.stepHandles) h?.cancel?.();
    this.reject(err);
  }

  private cleanup(): void {
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.onAbort) this.options.signal!.removeEventListener('abort', this.onAbort);
  }

  /** The step's error with the same code, its message prefixed by the ensemble, step and member model. */
  private stepError(i: number, err: ServalError): ServalError {
    const code = (err as { code?: string }).code as ServalErrorCode | undefined;
    const e = errorFromCode(code ?? 'INTERNAL', `ensemble '${this.plan.name}' step ${i} ('${this.plan.steps[i]!.model}'): ${err.message ?? String(err)}`);
    return e;
  }
}
