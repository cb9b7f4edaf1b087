/**
 * Closed-loop load: `concurrency` workers, each sending its next request the moment the previous one ends.
 * Latency runs from the actual send. This measures capacity; it cannot measure latency under a given load,
 * because a slow server slows the generator down with it (coordinated omission), so latency claims come from
 * the open loop.
 */
import type { Classify, LoadDriver, Send } from './driver.js';
import { now, yieldToEventLoop } from './driver.js';
import type { StepRecorder } from './recorder.js';

/** A worker yields to the event loop at least this often, in case its target answers without real I/O. */
const YIELD_EVERY_MS = 20;

export class ClosedLoopDriver implements LoadDriver {
  private stopped = false;
  readonly exhausted = new Promise<void>(() => {});

  constructor(
    private readonly concurrency: number,
    private readonly chooseModel: () => number,
    private readonly send: Send,
    private readonly classify: Classify,
  ) {}

  start(recorder: StepRecorder): void {
    for (let i = 0; i < this.concurrency; i++) void this.worker(recorder);
  }

  stop(): void {
    this.stopped = true;
  }

  backlogSinceMs(): number {
    return Infinity;
  }

  private async worker(recorder: StepRecorder): Promise<void> {
    let lastYield = now();
    while (!this.stopped) {
      const model = this.chooseModel();
      const token = recorder.begin(now(), model);
      try {
        await this.send(model);
        recorder.succeed(token, now());
      } catch (err) {
        const { reason, message } = this.classify(err);
        recorder.fail(token, reason, message);
      }
      if (now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = now();
      }
    }
  }
}
