/**
 * Open-loop load: requests are sent at the times an arrival process (or a trace) dictates, whether or not
 * earlier ones have answered. Each request's latency runs from its *intended* send time, so a generator that
 * falls behind (a busy event loop, the outstanding cap) never hides server delay: the lateness is charged to
 * latency and also reported on its own as generator lag.
 *
 * Timing: a timer wakes the generator about 1 ms before the next arrival, then it spins on setImmediate (which
 * still serves I/O) until the arrival is due. Everything due at a wake-up is sent then, up to
 * MAX_SENDS_PER_TURN per turn of the event loop.
 */
import type { ArrivalSource } from '../arrivals.js';
import type { Classify, LoadDriver, Send } from './driver.js';
import { now } from './driver.js';
import { NOT_SENT, type StepRecorder } from './recorder.js';

const SPIN_WINDOW_MS = 1;
/**
 * Most requests sent in one turn of the event loop. A generator that has fallen behind catches up in slices,
 * so completions and timers run in between instead of after one giant burst of sends.
 */
const MAX_SENDS_PER_TURN = 256;

export interface OpenLoopOptions {
  /** Most requests in flight at once; beyond it arrivals wait (and their lag shows). @default 4096 */
  maxOutstanding?: number;
}

export class OpenLoopDriver implements LoadDriver {
  private recorder!: StepRecorder;
  private nextIntended: number | undefined;
  private outstanding = 0;
  private stopped = false;
  private waitingForSlot = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly maxOutstanding: number;
  private resolveExhausted!: () => void;
  readonly exhausted = new Promise<void>((resolve) => (this.resolveExhausted = resolve));

  constructor(
    private readonly source: ArrivalSource,
    private readonly chooseModel: () => number,
    private readonly send: Send,
    private readonly classify: Classify,
    options: OpenLoopOptions = {},
  ) {
    this.maxOutstanding = options.maxOutstanding ?? 4096;
  }

  start(recorder: StepRecorder): void {
    this.recorder = recorder;
    this.pull();
    this.tick();
  }

  stop(stopMs: number): void {
    this.clearTimer();
    // Arrivals due before the stop whose timer has not fired yet are sent now (their lag shows it); only those
    // the outstanding cap holds back are NOT_SENT.
    while (this.nextIntended !== undefined && this.nextIntended < stopMs && this.outstanding < this.maxOutstanding) {
      this.issue(this.nextIntended, now());
      this.pull();
    }
    this.stopped = true;
    while (this.nextIntended !== undefined && this.nextIntended < stopMs) {
      const token = this.recorder.begin(this.nextIntended, this.chooseModel());
      this.recorder.fail(token, NOT_SENT, `still waiting for one of the ${this.maxOutstanding} outstanding slots when the step ended`);
      this.pull();
    }
  }

  backlogSinceMs(): number {
    return this.nextIntended !== undefined && this.nextIntended <= now() ? this.nextIntended : Infinity;
  }

  private pull(): void {
    const t = this.source.next();
    this.nextIntended = t === undefined ? undefined : this.recorder.t0 + t * 1000;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.waitingForSlot = false;
    if (this.stopped) return;
    for (let sent = 0; sent < MAX_SENDS_PER_TURN && this.nextIntended !== undefined && this.outstanding < this.maxOutstanding; sent++) {
      const t = now();
      if (this.nextIntended > t) break;
      this.issue(this.nextIntended, t);
      this.pull();
    }
    if (this.nextIntended === undefined) {
      this.resolveExhausted();
    } else if (this.outstanding >= this.maxOutstanding) {
      this.waitingForSlot = true;
    } else {
      const wait = this.nextIntended - now();
      if (wait > SPIN_WINDOW_MS) this.timer = setTimeout(this.tick, wait - SPIN_WINDOW_MS);
      else this.immediate = setImmediate(this.tick);
    }
  };

  private issue(intendedMs: number, sentMs: number): void {
    const model = this.chooseModel();
    const token = this.recorder.begin(intendedMs, model);
    this.recorder.lag.recordMs(sentMs - intendedMs);
    this.outstanding++;
    // A promise chain, not a direct call: a send that throws synchronously still ends as a recorded failure.
    Promise.resolve(model).then(this.send).then(
      () => this.settle(() => this.recorder.succeed(token, now())),
      (err: unknown) =>
        this.settle(() => {
          const { reason, message } = this.classify(err);
          this.recorder.fail(token, reason, message);
        }),
    );
  }

  private settle(record: () => void): void {
    record();
    this.outstanding--;
    // Resume on the next turn, not inside this completion callback: when every completion immediately sends
    // a new request, a target that delivers completions in a loop would otherwise keep the event loop in that
    // loop and starve the step's timers.
    if (this.waitingForSlot && this.immediate === undefined && !this.stopped) this.immediate = setImmediate(this.tick);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
