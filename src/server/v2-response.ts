/**
 * Encodes an Open Inference Protocol v2 inference response: all-JSON, or a JSON header followed by
 * binary output segments (binary data extension) with `Inference-Header-Content-Length` set.
 */
import type { InferOutputs } from '../api-types.js';
import type { ResponsePlan } from './v2-request.js';
import { tensorDataToBinary, tensorDataToJsonText } from './v2-tensor-data.js';

export interface EncodedResponse {
  headers: Record<string, string>;
  /** A string when all JSON (transports write it without a Buffer copy in JavaScript). */
  body: Buffer | string;
}

/**
 * @param outputs what `Runtime.infer` returned.
 * @param plan from the decoded request: which outputs, in which order, which of them binary.
 */
export function encodeInferResponse(
  modelName: string,
  modelVersion: number | string,
  outputs: InferOutputs,
  plan: ResponsePlan,
): EncodedResponse {
  const wanted = plan.outputs ?? Object.keys(outputs).map((name) => ({ name, binary: plan.binaryDefault }));
  const parts: string[] = [];
  const segments: Uint8Array[] = [];
  for (const { name, binary } of wanted) {
    const t = outputs[name];
    if (t === undefined) continue;
    const head = `{"name":${JSON.stringify(name)},"datatype":"${t.type}","shape":[${t.dims.join(',')}]`;
    if (binary) {
      const bytes = tensorDataToBinary(t.type, t.data);
      segments.push(bytes);
      parts.push(`${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`);
    } else {
      parts.push(`${head},"data":${tensorDataToJsonText(t.type, t.data)}}`);
    }
  }
  const idPart = plan.id !== undefined ? `,"id":${JSON.stringify(plan.id)}` : '';
  const text = `{"model_name":${JSON.stringify(modelName)},"model_version":${JSON.stringify(String(modelVersion))}${idPart},"outputs":[${parts.join(',')}]}`;
  if (segments.length === 0) return { headers: { 'content-type': 'application/json' }, body: text };
  const json = Buffer.from(text);
  return {
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.byteLength),
    },
    body: Buffer.concat([json, ...segments]),
  };
}
