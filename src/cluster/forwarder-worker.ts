/**
 * A forwarder thread: the executor of one native instance that stands for a remote replica. Loops like an
 * onnxruntime executor (take the next batch from the native batcher, blocking on this thread), but runs
 * the batch by sending it to the replica (BatchForwarder) and hands the replica's outputs back to the
 * batcher, which answers each request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAddon } from '../binding.js';
import { batches } from '../executor/batch-loop.js';
import { BatchForwarder } from './batch-forwarder.js';
import type { ForwarderWorkerData, FromForwarder, ToForwarder } from './forwarder-protocol.js';

const data = workerData as ForwarderWorkerData;
const port = parentPort!;
const forwarder = new BatchForwarder(data.model, data.inputs, data.outputs, data.timeoutMs, (m: FromForwarder) => port.postMessage(m));
forwarder.fallbacks = data.fallbacks;
forwarder.grpcPort = data.grpcPort;
port.on('message', (m: ToForwarder) => {
  if (m.kind === 'fallbacks') forwarder.fallbacks = m.urls;
});

async function main(): Promise<void> {
  const executor = new (loadAddon().NativeExecutor)(data.token);
  // A short idle wait: the main thread sends new fallback replicas as messages.
  for await (const batch of batches(executor, { idleWaitMs: 50 })) {
    try {
      const refused = executor.complete(batch.id, await forwarder.forward(data.url, batch));
      if (refused) port.postMessage({ kind: 'failed', url: data.url, message: `replica outputs refused: ${refused.message}` } satisfies FromForwarder);
    } catch (err) {
      executor.fail(batch.id, `replica: ${(err as Error).message}`);
    }
  }
  await forwarder.close();
  port.postMessage({ kind: 'stopped' } satisfies FromForwarder);
}

void main();
