/**
 * Opens the embedded runtime (`Runtime.open` from src/runtime.ts) for `serval serve`. Kept apart
 * from server.ts so that the server and its tests depend on the `ServingRuntime` contract only, and
 * the native addon loads only when a real runtime is opened.
 */
import type { RuntimeOptions } from '../api-types.js';
import type { ServingRuntime } from './serving-runtime.js';

export async function openRuntime(options: RuntimeOptions): Promise<ServingRuntime> {
  const { Runtime } = await import('../runtime.js');
  return Runtime.open(options);
}
