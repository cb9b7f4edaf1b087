/** What the step runner needs from a load generator (closed or open loop). */
import type { StepRecorder } from './recorder.js';

/** Sends one request to the model at index `model` of the step's mix; rejects on any failure. */
export type Send = (model: number) => Promise<void>;

/** Turns whatever a send rejected with into a failure reason (a stable code) and a message for the report. */
export type Classify = (err: unknown) => { reason: string; message: string };

export interface LoadDriver {
  /** Starts issuing requests into `recorder` (whose `t0` is time zero of the step). */
  start(recorder: StepRecorder): void;
  /**
   * Stops issuing. An open-loop driver records every arrival intended before `stopMs` that it could not send
   * as a `NOT_SENT` failure, so backlog is counted, not hidden.
   */
  stop(stopMs: number): void;
  /**
   * Intended time of the oldest arrival that is due but not yet sent (open loop at its outstanding cap), or
   * Infinity. Windows after it are missing requests and cannot be judged yet.
   */
  backlogSinceMs(): number;
  /** Resolves when a finite arrival source (a trace) has issued its last request; never for endless ones. */
  readonly exhausted: Promise<void>;
}

export const now = (): number => performance.now();

/** Lets timers and I/O run when a loop of promise continuations would otherwise hold the event loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
