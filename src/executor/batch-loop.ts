/**
 * The pull loop every executor thread runs (onnxruntime instances, JavaScript models, the router's
 * forwarders): take the native batcher's next batch, sleeping in the native wait while there is none and
 * letting the thread's messages in between waits, until the instance is closed.
 */
import type { NativeBatch, NativeExecutor } from '../binding.js';
import { IDLE_WAIT_MS, takeCrashRequest } from './protocol.js';

export interface BatchLoopOptions {
  /** How long to sleep in the native wait before looking up (messages get in then). @default IDLE_WAIT_MS */
  idleWaitMs?: number;
  /** The crash test hook (ExecutorWorkerData.crashFlag): exit holding the next batch when it is set. */
  crashFlag?: Int32Array;
}

/** The batches of `executor`, one at a time, until its instance closes. */
export async function* batches(executor: NativeExecutor, options: BatchLoopOptions = {}): AsyncGenerator<NativeBatch> {
  const wait = options.idleWaitMs ?? IDLE_WAIT_MS;
  for (;;) {
    const batch = executor.next(wait);
    if (batch === false) return;
    if (batch === null) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    if (options.crashFlag && takeCrashRequest(options.crashFlag)) process.exit(70); // test hook: die holding a batch
    yield batch;
  }
}
