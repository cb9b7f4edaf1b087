/**
 * Checks what a JavaScript model's execute() returned against the model's config before the batch completes:
 * every requested output present, its data the typed array (or string array) of its data type, its dims the
 * batch's rows and the config's dims, and its element count equal to the dims' product. A failure fails only
 * that batch, with a message naming the output.
 */
import { dataMatchesType, dataTypeInfo } from '../dtypes.js';
import type { ModelConfig } from '../repository/model-config.js';
import type { JsBatchOutputs } from './js-model-api.js';

export type CheckedOutput = { data: unknown; dims: number[] } | undefined;

export function checkJsOutputs(config: ModelConfig, rows: number, requested: readonly boolean[], result: unknown): CheckedOutput[] {
  if (result === null || typeof result !== 'object') throw new Error(`execute() must return an object of outputs, got ${result === null ? 'null' : typeof result}`);
  const outputs = result as JsBatchOutputs;
  return config.output.map((spec, i) => {
    if (!requested[i]) return undefined;
    const out = outputs[spec.name];
    if (!out || typeof out !== 'object') throw new Error(`execute() returned no output '${spec.name}'`);
    if (!dataMatchesType(spec.dataType, out.data)) {
      const got = Array.isArray(out.data) ? 'an array' : (out.data as object | undefined)?.constructor?.name ?? typeof out.data;
      throw new Error(`output '${spec.name}' must be ${spec.dataType === 'BYTES' ? 'a string array' : `a ${dataTypeInfo(spec.dataType).arrayType}`} (${spec.dataType}), got ${got}`);
    }
    const expected = config.maxBatchSize > 0 ? [rows, ...spec.dims] : spec.dims;
    let dims = out.dims as number[] | undefined;
    if (dims === undefined) {
      if (expected.includes(-1)) throw new Error(`output '${spec.name}' needs dims: its config dims [${spec.dims.join(', ')}] are not fixed`);
      dims = expected;
    }
    const fits = Array.isArray(dims) && dims.length === expected.length
      && dims.every((d, k) => Number.isSafeInteger(d) && d >= 0 && (expected[k] === -1 || expected[k] === d));
    if (!fits) throw new Error(`output '${spec.name}' has dims [${String(dims)}], expected [${expected.map((d) => (d === -1 ? '-1' : d)).join(', ')}]`);
    const count = dims.reduce((a, b) => a * b, 1);
    const length = (out.data as { length: number }).length;
    if (length !== count) throw new Error(`output '${spec.name}' has ${length} elements but dims [${dims.join(', ')}] need ${count}`);
    if (spec.dataType === 'BYTES' && !(out.data as unknown[]).every((s) => typeof s === 'string')) {
      throw new Error(`output '${spec.name}' must hold only strings`);
    }
    return { data: out.data, dims: [...dims] };
  });
}
