/**
 * The bytes that identify a request to the response cache: the requested outputs, then each input of the
 * model's config in order with its type, dims and data bytes (strings length-prefixed). A request the cache
 * cannot describe (a missing input, data that is neither a typed array nor a string array) gets no key and
 * goes to the model, whose validation answers it.
 */
import type { InferInputs, InferOptions } from '../api-types.js';
import type { ModelConfig } from '../repository/model-config.js';

export function requestKeyBytes(config: ModelConfig, inputs: InferInputs, options: InferOptions | undefined): Buffer | undefined {
  if (inputs === null || typeof inputs !== 'object') return undefined;
  const parts: Buffer[] = [Buffer.from(`${(options?.outputs ?? []).join(',')}\n`)];
  let names = 0;
  for (const spec of config.input) {
    const t = (inputs as Record<string, { type?: unknown; dims?: unknown; data?: unknown } | undefined>)[spec.name];
    if (t === undefined) continue;
    names++;
    if (t === null || typeof t !== 'object' || !Array.isArray(t.dims)) return undefined;
    parts.push(Buffer.from(`${spec.name}\0${String(t.type ?? '')}\0${t.dims.join(',')}\n`));
    const data = t.data;
    if (ArrayBuffer.isView(data)) {
      parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } else if (Array.isArray(data) && data.every((s) => typeof s === 'string')) {
      for (const s of data as string[]) {
        const b = Buffer.from(s, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        parts.push(len, b);
      }
    } else {
      return undefined;
    }
  }
  // An input the config does not know: let the model reject it.
  if (names !== Object.keys(inputs).length) return undefined;
  return Buffer.concat(parts);
}
