/**
 * One request into a native model (src/binding.ts NativeModel): validate the inputs against the model's
 * plan, write the request header, take a slot in the runtime's completion table and enqueue. Shared by every
 * kind of served model that has a native scheduler: a loaded version (model-version.ts) and a model routed
 * across replicas (src/cluster/remote-model.ts).
 */
import { CancelledError, errorFromCode, type ServalErrorCode } from '../errors.js';
import type { NativeModel } from '../binding.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { InferInputs, InferOptions, InferOutputs } from '../api-types.js';
import { HEADER, type CompletionTable } from './completion-table.js';
import { prepareInputs, prepareOptions, type InputPlan } from './input-validation.js';

/** A native model with what requests to it need, fixed for its lifetime. */
export interface NativeTarget {
  /** A model this environment owns, or one reached from an HTTP thread (NativeModelHandle). */
  model: Pick<NativeModel, 'enqueue' | 'cancel'>;
  table: CompletionTable;
  plan: InputPlan;
  config: ModelConfig;
  outputNames: readonly string[];
}

let nextRequestId = 1;

/**
 * Request ids name a request to the scheduler's cancel. HTTP threads share the main thread's schedulers, so
 * each JS environment draws its ids from its own range: thread `t` (0 = main) from t * 2^47 + 1 on.
 */
export const MAX_REQUEST_ID_SPACES = 64;
export function useRequestIdSpace(thread: number): void {
  if (!Number.isInteger(thread) || thread < 0 || thread >= MAX_REQUEST_ID_SPACES) throw new RangeError(`request id space ${thread}`);
  nextRequestId = thread * 2 ** 47 + 1;
}

/** Queues one request; `options.handle` gets its `cancel` here and where it ran when it completes (RequestHandle). */
export function enqueueRequest(t: NativeTarget, inputs: InferInputs, options: InferOptions | undefined): Promise<InferOutputs> {
  const { model, table } = t;
  const h = table.header;
  const data = prepareInputs(t.plan, inputs, h);
  const { priority, timeoutUs, sloUs, mask } = prepareOptions(t.config, options);
  const signal = options?.signal;
  const handle = options?.handle;
  if (signal?.aborted) return Promise.reject(new CancelledError('request cancelled before it was queued'));
  const id = signal || handle ? nextRequestId++ : 0;
  const { slot, promise } = table.open(t.outputNames, handle);
  h[HEADER.slot] = slot;
  h[HEADER.priority] = priority;
  h[HEADER.timeoutUs] = timeoutUs;
  h[HEADER.mask] = mask;
  h[HEADER.requestId] = id;
  h[HEADER.sloUs] = sloUs;
  let placed: number | { code: string; message: string };
  try {
    placed = data.length === 1 ? model.enqueue(data[0]) : model.enqueue(data);
  } catch (err) {
    table.refuse(slot, err as Error);
    return promise;
  }
  if (typeof placed !== 'number') {
    table.refuse(slot, errorFromCode(placed.code as ServalErrorCode, placed.message));
    return promise;
  }
  const instance = placed;
  // The runtime in front (Runtime.serve, ClusterRuntime.infer) has named the version in the handle already.
  if (handle) handle.cancel = () => { model.cancel(id, instance); };
  if (!signal) return promise;
  const onAbort = () => { model.cancel(id, instance); };
  signal.addEventListener('abort', onAbort, { once: true });
  return promise.finally(() => signal.removeEventListener('abort', onAbort));
}
