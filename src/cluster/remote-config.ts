/**
 * A replica's model configuration as Triton's JSON (`GET /v2/models/{m}/config`, written by
 * src/server/model-config-json.ts) back to serval's `ModelConfig`: camelCase names, `TYPE_*` → v2 data
 * types, `reshape: {shape}` → an array, `parameters: {k: {string_value}}` → strings. The router validates
 * requests and builds its native model from it, as the replica does from config.pbtxt.
 */
import { fromTritonType } from '../dtypes.js';
import { ModelUnavailableError } from '../errors.js';
import type { ModelConfig } from '../repository/model-config.js';

/** Fields whose keys are user data (names, priority levels), not field names. */
const MAP_FIELDS = new Set(['priority_queue_policy', 'inputs']);

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function convert(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => convert(v, where));
  if (!isMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'data_type') {
      const type = typeof v === 'string' ? fromTritonType(v) : undefined;
      if (!type) throw new ModelUnavailableError(`${where}: unknown data_type ${JSON.stringify(v)}`);
      out['dataType'] = type;
    } else if (k === 'reshape' && isMap(v)) out['reshape'] = v['shape'];
    else if (k === 'parameters' && isMap(v)) {
      out['parameters'] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, String(isMap(pv) ? pv['string_value'] : pv)]));
    } else if (MAP_FIELDS.has(k) && isMap(v)) {
      out[camel(k)] = Object.fromEntries(Object.entries(v).map(([mk, mv]) => [mk, convert(mv, where)]));
    } else out[camel(k)] = convert(v, where);
  }
  return out;
}

/** Parses a replica's config JSON; a config the router cannot serve from is a ModelUnavailableError. */
export function modelConfigFromTritonJson(json: unknown, where: string): ModelConfig {
  const c = convert(json, where) as Partial<ModelConfig>;
  if (typeof c.name !== 'string' || !Array.isArray(c.input) || !Array.isArray(c.output) || typeof c.maxBatchSize !== 'number') {
    throw new ModelUnavailableError(`${where}: the model configuration lacks name, input, output or max_batch_size`);
  }
  return {
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    instanceGroup: [],
    versionPolicy: { latest: { numVersions: 1 } },
    parameters: {},
    modelWarmup: [],
    defaultModelFilename: 'model.onnx',
    ...c,
  } as ModelConfig;
}
