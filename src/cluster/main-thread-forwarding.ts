/**
 * Forwarding on the main thread (`serval route --forward-on main`): the router's own event loop takes each
 * instance's next batch from the native batcher without blocking (`next(0)`) right after a request is
 * queued or a batch completes, and sends it with a BatchForwarder. No forwarder thread, so no thread
 * hand-off on the way out; the replica's answer settles requests as an executor's would. One batch in flight
 * per instance: `next` is never called on an instance whose batch has not completed (the batcher would fail
 * it as abandoned).
 */
import { loadAddon, type NativeExecutor, type NativeModel } from '../binding.js';
import { BatchForwarder } from './batch-forwarder.js';
import type { FromForwarder } from './forwarder-protocol.js';
import type { WireTensor } from './v2-client.js';

export interface MainThreadForwardingOptions {
  model: NativeModel;
  modelName: string;
  /** The replica of each native instance. */
  instanceUrls: string[];
  inputs: WireTensor[];
  outputs: WireTensor[];
  timeoutMs: number;
  /** The batcher's max_queue_delay: a partial batch becomes ready after it, so look again then. */
  maxQueueDelayMs: number;
  /** The replicas' gRPC port when batches go over gRPC. */
  grpcPort?: number;
  report(m: FromForwarder): void;
}

export class MainThreadForwarding {
  private readonly executors: NativeExecutor[];
  private readonly busy: boolean[];
  private readonly forwarder: BatchForwarder;
  private timer: NodeJS.Timeout | undefined;
  /** Requests queued and not yet answered (settled by the batcher: answered, failed, shed or timed out). */
  private outstanding = 0;

  constructor(private readonly o: MainThreadForwardingOptions) {
    const addon = loadAddon();
    this.executors = o.instanceUrls.map((_, i) => new addon.NativeExecutor(o.model.executorToken(i)));
    this.busy = o.instanceUrls.map(() => false);
    this.forwarder = new BatchForwarder(o.modelName, o.inputs, o.outputs, o.timeoutMs, o.report);
    this.forwarder.fallbacks = [...new Set(o.instanceUrls)];
    this.forwarder.grpcPort = o.grpcPort;
  }

  setFallbacks(urls: string[]): void {
    this.forwarder.fallbacks = urls;
  }

  /** A request was queued (`answer` settles when the batcher is done with it): send what is ready now. */
  enqueued(answer: Promise<unknown>): void {
    this.outstanding++;
    const done = () => { this.outstanding--; };
    answer.then(done, done);
    this.pump();
  }

  /** Sends every batch that is ready on an idle instance. Cheap when nothing is: one native call per idle instance. */
  pump(): void {
    for (let i = 0; i < this.executors.length; i++) {
      if (this.busy[i]) continue;
      const executor = this.executors[i]!;
      const batch = executor.next(0);
      if (batch === false || batch === null) continue;
      this.busy[i] = true;
      const url = this.o.instanceUrls[i]!;
      this.forwarder.forward(url, batch).then(
        (outputs) => {
          const refused = executor.complete(batch.id, outputs);
          if (refused) this.o.report({ kind: 'failed', url, message: `replica outputs refused: ${refused.message}` });
        },
        (err: Error) => executor.fail(batch.id, `replica: ${err.message}`),
      ).catch(() => { /* complete/fail threw: the batcher fails the batch when the instance takes its next one */ })
        .finally(() => {
          this.busy[i] = false;
          this.pump();
        });
    }
    this.watch();
  }

  /**
   * Requests wait while an instance is idle only when the batcher holds a partial batch (max_queue_delay, or
   * a batch admission sends later): look again every half delay (at least 1 ms) until none waits. Completions
   * look on their own while every instance is busy.
   */
  private watch(): void {
    if (this.timer || this.outstanding <= 0 || this.busy.every((b) => b)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, this.o.maxQueueDelayMs / 2));
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.forwarder.close();
  }
}
