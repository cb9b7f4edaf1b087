/**
 * InstanceExecutor: owns the executor worker thread of one model instance (main-thread side). Starts it,
 * learns the model's metadata from it, starts serving, and restarts it if it dies: a dying executor
 * fails only the requests of its in-flight batch (the native batcher keeps the queue).
 *
 * The threads are our own worker_threads rather than a piscina pool: each instance needs one pinned,
 * long-lived thread that pulls batches from native code, and piscina's task-per-message model would
 * put a main-thread hop in every batch (measured in bench/dispatch-overhead.ts; see README).
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../binding.js';
import type { OnnxModelInfo } from '../repository/autocomplete.js';
import type { ProviderStatus } from './execution-providers.js';
import type { ExecutorWorkerData, FromWorker, JsModelSpec, ToWorker } from './protocol.js';
import { ExecuteWatchdog, executeTimeoutMs } from '../js-backend/execute-watchdog.js';

// Worker threads need JavaScript: when this module runs from TypeScript sources (tests), use the build.
const WORKER_PATH = workerScript('src/executor/executor-worker.js');
/** The executor thread of JavaScript-backend models (src/js-backend/js-model-worker.ts). */
const JS_WORKER_PATH = workerScript('src/js-backend/js-model-worker.js');

export interface InstanceExecutorOptions {
  modelFile: string;
  intraOpThreads: number;
  /** The instance's kind and GPU ordinal (KIND_GPU instances try the GPU providers first). */
  instanceKind: 'CPU' | 'GPU';
  device: number;
  /** config.pbtxt gpu_execution_accelerator names ("tensorrt"). */
  gpuAccelerators: string[];
  /** Called when the worker died unexpectedly, before it is restarted. */
  onCrash: (reason: string) => void;
  /** Called when a warmup step that is not required failed (the instance serves anyway). */
  onWarmupSkipped?: (reason: string) => void;
  /** Run a JavaScript-backend model instead of an onnxruntime session. */
  jsModel?: JsModelSpec;
}

export class InstanceExecutor {
  private worker: Worker | undefined;
  private start: Extract<ToWorker, { kind: 'start' }> | undefined;
  private stopping = false;
  /** The current worker reported 'stopped' (its batcher closed and drained) or exited. */
  private stopped = false;
  private stoppedWaiters: (() => void)[] = [];
  /** The execution provider the current worker's session runs on (known once loaded). */
  provider: ProviderStatus | undefined;
  /** JavaScript models with `execute_timeout_ms`: terminates a thread whose batch runs past it. */
  private readonly watchdog: ExecuteWatchdog | undefined;
  /** Why the watchdog ended the current worker, reported instead of its exit code. */
  private killedBecause: string | undefined;

  constructor(private readonly options: InstanceExecutorOptions) {
    const limit = options.jsModel ? executeTimeoutMs(options.jsModel.config) : undefined;
    this.watchdog = limit === undefined ? undefined : new ExecuteWatchdog(limit);
  }

  /** Starts the worker and resolves with the model metadata once its session is loaded. */
  load(): Promise<OnnxModelInfo> {
    return new Promise((resolve, reject) => {
      const worker = this.spawn();
      const onMessage = (m: FromWorker) => {
        if (m.kind === 'loaded') { worker.off('message', onMessage); resolve(m.info); }
        if (m.kind === 'load-failed') { worker.off('message', onMessage); reject(new Error(m.message)); }
      };
      worker.on('message', onMessage);
      worker.once('error', (err) => reject(err));
    });
  }

  /** Runs a calibration on the loaded (not yet serving) worker: the fastest run of each step, in ms. */
  calibrate(msg: Extract<ToWorker, { kind: 'calibrate' }>): Promise<number[]> {
    const worker = this.worker!;
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => { worker.off('message', onMessage); reject(new Error(`executor thread exited with code ${code} while calibrating`)); };
      const onMessage = (m: FromWorker) => {
        if (m.kind !== 'calibrated' && m.kind !== 'load-failed') return;
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (m.kind === 'calibrated') resolve(m.ms); else reject(new Error(m.message));
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage(msg);
    });
  }

  /** Warms up and starts serving the native instance behind `start.token`. */
  serve(start: Extract<ToWorker, { kind: 'start' }>): Promise<void> {
    this.start = start;
    return this.sendStart(this.worker!);
  }

  /** Test hook: the worker exits while holding its next batch. */
  crashOnNextBatch(): void {
    Atomics.store(this.crashFlag, 0, 1);
  }

  /** Waits for the worker to finish (after the native model is closed it drains and stops), then ends it. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.watchdog?.stop();
    const worker = this.worker;
    if (!worker) return;
    if (!this.stopped) await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.stoppedWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
    await worker.terminate();
  }

  private readonly crashFlag = new Int32Array(new SharedArrayBuffer(4));

  private spawn(): Worker {
    const data: ExecutorWorkerData = {
      modelFile: this.options.modelFile,
      intraOpThreads: this.options.intraOpThreads,
      instanceKind: this.options.instanceKind,
      device: this.options.device,
      gpuAccelerators: this.options.gpuAccelerators,
      crashFlag: this.crashFlag,
      ...(this.options.jsModel ? { jsModel: { ...this.options.jsModel, ...(this.watchdog ? { batchClock: this.watchdog.buffer } : {}) } } : {}),
    };
    const worker = new Worker(this.options.jsModel ? JS_WORKER_PATH : WORKER_PATH, { workerData: data });
    this.worker = worker;
    this.stopped = false;
    this.killedBecause = undefined;
    // Fail the batch with the reason before the thread goes (its teardown would fail it as "exited mid-batch").
    this.watchdog?.watch(worker, (reason) => {
      this.killedBecause = reason;
      this.options.onCrash(reason);
    });
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'stopped') this.markStopped();
      if (m.kind === 'loaded') this.provider = m.provider;
    });
    worker.on('error', () => { /* 'exit' follows and handles it */ });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.markStopped();
      if (this.stopping || !this.start) return;
      if (!this.killedBecause) this.options.onCrash(`executor thread exited with code ${code}`);
      void this.restart();
    });
    return worker;
  }

  private markStopped(): void {
    this.stopped = true;
    this.stoppedWaiters.splice(0).forEach((f) => f());
  }

  private async restart(): Promise<void> {
    const worker = this.spawn();
    await new Promise<void>((resolve) => {
      const onMessage = (m: FromWorker) => { if (m.kind === 'loaded') { worker.off('message', onMessage); resolve(); } };
      worker.on('message', onMessage);
    });
    await this.sendStart(worker, true);
  }

  private sendStart(worker: Worker, skipWarmup = false): Promise<void> {
    const start = skipWarmup ? { ...this.start!, warmup: [] } : this.start!;
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.kind === 'warmup-skipped') this.options.onWarmupSkipped?.(m.message);
        if (m.kind === 'serving') { worker.off('message', onMessage); resolve(); }
        if (m.kind === 'warmup-failed' || m.kind === 'load-failed') { worker.off('message', onMessage); reject(new Error(m.message)); }
      };
      worker.on('message', onMessage);
      worker.postMessage(start);
    });
  }
}
