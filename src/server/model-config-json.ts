/**
 * serval's normalised `ModelConfig` as Triton's JSON model configuration
 * (`GET v2/models/{m}/config`): snake_case field names, `TYPE_*` data types, `reshape: {shape}`,
 * and `parameters` as `{key: {string_value}}`.
 */
import type { ModelConfig } from '../api-types.js';
import { isDataType, toTritonType } from '../dtypes.js';

/** Fields whose keys are user data (names, priority levels), not field names. */
const MAP_FIELDS = new Set(['priorityQueuePolicy', 'inputs', 'inputMap', 'outputMap']);

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function tritonModelConfig(config: ModelConfig): Record<string, unknown> {
  return convert(config) as Record<string, unknown>;
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (k === 'dataType' && isDataType(v)) out['data_type'] = toTritonType(v);
    else if (k === 'reshape' && Array.isArray(v)) out['reshape'] = { shape: v };
    else if (k === 'parameters' && typeof v === 'object' && v !== null) {
      out['parameters'] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, { string_value: String(pv) }]));
    } else if (MAP_FIELDS.has(k) && typeof v === 'object' && v !== null) {
      out[snake(k)] = Object.fromEntries(Object.entries(v).map(([mk, mv]) => [mk, convert(mv)]));
    } else out[snake(k)] = convert(v);
  }
  return out;
}
