/**
 * The execution time limit of a JavaScript model (config parameter `execute_timeout_ms`): JavaScript running in
 * a worker cannot be interrupted from inside, so the executor thread writes when its current batch started into
 * shared memory, and the main thread checks it a few times per limit; a batch past its limit gets the thread
 * terminated, which fails that batch (EXECUTION_FAILED) and restarts the instance like any executor crash.
 *
 * Threads: `markStarted`/`markIdle` run on the executor thread; `watch`/`stop` on the main thread.
 */
import type { Worker } from 'node:worker_threads';
import { InvalidConfigError } from '../errors.js';
import type { ModelConfig } from '../repository/model-config.js';

export const EXECUTE_TIMEOUT_PARAMETER = 'execute_timeout_ms';

/** The model's limit in ms, or undefined for none; a bad value is an InvalidConfigError naming the parameter. */
export function executeTimeoutMs(config: ModelConfig): number | undefined {
  const text = config.parameters[EXECUTE_TIMEOUT_PARAMETER];
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new InvalidConfigError(`model '${config.name}': parameter ${EXECUTE_TIMEOUT_PARAMETER} must be a positive number of milliseconds, got "${text}"`);
  }
  return ms;
}

/** The executor thread's side: one Float64 slot, the start time (performance.timeOrigin + now) of the running batch, 0 when idle. */
export class BatchClock {
  private readonly slot: Float64Array;
  constructor(buffer: SharedArrayBuffer) { this.slot = new Float64Array(buffer); }
  markStarted(): void { this.slot[0] = performance.timeOrigin + performance.now(); }
  markIdle(): void { this.slot[0] = 0; }
}

export class ExecuteWatchdog {
  /** Shared with the executor thread (a BatchClock). */
  readonly buffer = new SharedArrayBuffer(8);
  private readonly slot = new Float64Array(this.buffer);
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly limitMs: number) {}

  /** Checks `worker` until stop(); calls `expire(reason)` once when a batch runs past the limit. */
  watch(worker: Worker, expire: (reason: string) => void): void {
    this.stop();
    this.slot[0] = 0;
    this.timer = setInterval(() => {
      const started = this.slot[0]!;
      if (started > 0 && performance.timeOrigin + performance.now() - started > this.limitMs) {
        this.stop();
        expire(`execute() ran longer than ${EXECUTE_TIMEOUT_PARAMETER} (${this.limitMs} ms): the executor thread was terminated`);
        void worker.terminate();
      }
    }, Math.max(5, Math.min(100, this.limitMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
