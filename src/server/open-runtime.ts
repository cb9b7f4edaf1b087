/**
 * Opens the embedded runtime (`Runtime.open` from src/runtime.ts) for `serval serve`.
 */
import type { RuntimeOptions } from '../api-types.js';
import type { ServingRuntime } from './serving-runtime.js';

interface RuntimeModule {
  Runtime: { open(options: RuntimeOptions): Promise<ServingRuntime> };
}

export async function openRuntime(options: RuntimeOptions): Promise<ServingRuntime> {
  // TODO(serval serve issue): import `Runtime` statically once src/runtime.ts is in the tree; the
  // specifier lives in a variable so that this file compiles before it lands.
  const specifier = '../runtime.js';
  const mod = (await import(specifier)) as RuntimeModule;
  return mod.Runtime.open(options);
}
