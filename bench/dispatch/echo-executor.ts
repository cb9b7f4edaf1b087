/** Worker for dispatch-overhead: a serval executor that answers every batch at once (no model). */
import { workerData } from 'node:worker_threads';
import { loadAddon } from '../../src/binding.js';

const executor = new (loadAddon().NativeExecutor)(workerData.token as number);
for (;;) {
  const batch = executor.next(50);
  if (batch === false) break;
  if (batch === null) continue;
  const input = batch.inputs[0]!;
  executor.complete(batch.id, [{ data: input.data, dims: input.dims }]);
}
