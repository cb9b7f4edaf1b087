/**
 * Runs one load step (one concurrency, one rate, or one trace replay) in measurement windows, perf_analyzer
 * style: the warm-up windows are discarded; the step stops as soon as the last `windows` complete windows
 * agree on throughput and p99 within `percentage` % of their mean, or when `maxDurationMs` is reached (then
 * every post-warm-up window counts and the step is reported as not stable). A finite trace ends the step
 * when it runs out.
 */
import type { LoadDriver } from './driver.js';
import { now } from './driver.js';
import { type MeasurementWindow, StepRecorder, UNFINISHED } from './recorder.js';

export interface StabilityRule {
  /** Consecutive windows that must agree. @default 3 */
  windows: number;
  /** Allowed deviation of each window from their mean, in percent. @default 10 */
  percentage: number;
}

export interface StepOptions {
  windowMs: number;
  /** Windows that start before this are discarded. */
  warmupMs: number;
  /** Hard limit on the step, warm-up included. */
  maxDurationMs: number;
  /** Absent: run to `maxDurationMs` (or the end of the trace). */
  stability?: StabilityRule;
  /** How long to wait for requests still in flight when the step stops; the rest end as UNFINISHED. */
  drainTimeoutMs: number;
  sloMs?: number;
  /** Models in the step's mix (cells per window). */
  models: number;
}

export interface StepOutcome {
  recorder: StepRecorder;
  /** The windows the step's numbers come from. */
  measured: MeasurementWindow[];
  /** When load stopped; measured windows are clipped to it. */
  stopMs: number;
  stable: boolean;
}

/** Time after a window boundary before judging stability, so the window's last requests can complete. */
const SETTLE_MS = 50;

export async function runStep(driver: LoadDriver, options: StepOptions): Promise<StepOutcome> {
  const { windowMs } = options;
  const recorder = new StepRecorder(now(), windowMs, options.models, options.sloMs);
  const warmupWindows = Math.ceil(options.warmupMs / windowMs);
  const lastWindow = Math.max(warmupWindows + 1, Math.floor(options.maxDurationMs / windowMs)) - 1;
  let exhausted = false;
  void driver.exhausted.then(() => (exhausted = true));
  driver.start(recorder);

  let stopMs = 0;
  let measured: MeasurementWindow[] = [];
  let stable = false;
  for (let k = 1; ; k++) {
    const boundary = recorder.t0 + k * windowMs;
    await Promise.race([sleepUntil(boundary), driver.exhausted]);
    if (exhausted) {
      stopMs = now();
      break;
    }
    if (k - 1 >= lastWindow) {
      stopMs = boundary;
      break;
    }
    if (options.stability && k - warmupWindows >= options.stability.windows) {
      await Promise.race([sleepUntil(boundary + Math.min(SETTLE_MS, windowMs / 4)), driver.exhausted]);
      const found = findStableWindows(recorder, warmupWindows, k - 1, options.stability, driver.backlogSinceMs());
      if (found) {
        stopMs = now();
        measured = found;
        stable = true;
        break;
      }
    }
  }
  driver.stop(stopMs);
  if (!stable) {
    recorder.windowAt(stopMs - 1e-6);
    measured = recorder.windows.slice(warmupWindows).filter((w) => w.startMs < stopMs);
  }
  await drain(recorder, options.drainTimeoutMs);
  return { recorder, measured, stopMs, stable };
}

/** The newest run of `rule.windows` complete, consecutive, post-warm-up windows, if they agree. */
function findStableWindows(
  recorder: StepRecorder,
  first: number,
  last: number,
  rule: StabilityRule,
  backlogSinceMs: number,
): MeasurementWindow[] | undefined {
  for (let end = last; end >= last - 1 && end - rule.windows + 1 >= first; end--) {
    const start = end - rule.windows + 1;
    if (!recorder.complete(start, end) || recorder.windows[end].endMs > backlogSinceMs) continue;
    const windows = recorder.windows.slice(start, end + 1);
    const throughput = windows.map((w) => w.completedOk);
    const p99 = windows.map((w) => {
      const t = w.total();
      return t.latency.percentileWithFailuresMs(99, t.failed);
    });
    return withinPercent(throughput, rule.percentage) && withinPercent(p99, rule.percentage) ? windows : undefined;
  }
  return undefined;
}

/** Each value within `percentage` % of the mean; all-equal (including all infinite or all zero) agrees. */
function withinPercent(values: number[], percentage: number): boolean {
  if (values.some((v) => Number.isNaN(v))) return false;
  if (values.every((v) => v === values[0])) return true;
  if (values.some((v) => !Number.isFinite(v))) return false;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.every((v) => Math.abs(v - mean) <= (percentage / 100) * mean);
}

/** Waits up to `timeoutMs` for requests in flight; those still open then end as UNFINISHED. */
async function drain(recorder: StepRecorder, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (recorder.inflight > 0 && now() < deadline) await sleepUntil(Math.min(deadline, now() + 5));
  recorder.failOpen(UNFINISHED, `no answer within the ${timeoutMs} ms drain timeout after the step ended`);
}

function sleepUntil(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - now())));
}
