/**
 * Request inputs generated from model metadata (`--input-data random|zeros|FILE.json`). A small pool of
 * requests is built before the load starts and cycled through, so generating data never sits in the timed
 * path. Variable dimensions (-1) become 1 unless `--shape NAME:D1,D2,...` says otherwise.
 *
 * FILE.json follows perf_analyzer's layout: `{"data": [{"INPUT0": [1, 2, ...]}, {"INPUT0": {"content": [...],
 * "shape": [1, 4]}}, ...]}`: one entry per request, cycled.
 */
import { readFile } from 'node:fs/promises';
import { allocateTensorData, type DataType, isDataType, type TensorData } from '../src/dtypes.js';
import { toHalfBits } from '../src/server/fp16.js';
import { flattenJsonData, tensorDataFromJson } from '../src/server/v2-tensor-data.js';
import { BenchError, invalidArgument } from './errors.js';
import { parsePositiveInt, splitOnce } from './parse.js';
import { elementCount, type WireTensor } from './protocol/v2-codec.js';
import type { Rng } from './rng.js';

export interface TensorInfo {
  name: string;
  datatype: string;
  shape: number[];
}

/** What the harness needs to know about a model, from `GET /v2/models/{m}` or `rt.metadata(m)`. */
export interface ModelInfo {
  name: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export type InputDataMode = { kind: 'random' } | { kind: 'zeros' } | { kind: 'file'; path: string };

export function parseInputDataMode(text: string): InputDataMode {
  if (text === 'random' || text === 'zeros') return { kind: text };
  if (text.endsWith('.json')) return { kind: 'file', path: text };
  throw invalidArgument(`--input-data must be random, zeros or a .json file, got '${text}'`);
}

/** `--shape NAME:D1,D2` (repeatable) → shapes by input name. */
export function parseShapeOverride(text: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const [name, dims] = splitOnce(text, ':');
  if (!name || !dims) throw invalidArgument(`--shape must be NAME:D1,D2,..., got '${text}'`);
  return { ...previous, [name]: dims.split(',').map((d) => parsePositiveInt(d, `--shape ${name} dimension`)) };
}

export interface InputOptions {
  /** Distinct requests to generate. @default 16 */
  count?: number;
  shapes?: Record<string, number[]>;
}

export async function buildRequests(model: ModelInfo, mode: InputDataMode, rng: Rng, options: InputOptions = {}): Promise<WireTensor[][]> {
  if (mode.kind === 'file') return requestsFromFile(model, mode.path);
  const count = mode.kind === 'zeros' ? 1 : (options.count ?? 16);
  const requests: WireTensor[][] = [];
  for (let r = 0; r < count; r++) {
    requests.push(
      model.inputs.map((input) => {
        const datatype = checkedType(model.name, input);
        const shape = resolveShape(input, options.shapes?.[input.name]);
        const data = allocateTensorData(datatype, elementCount(shape));
        if (mode.kind === 'random') fillRandom(datatype, data, rng);
        return { name: input.name, datatype, shape, data };
      }),
    );
  }
  return requests;
}

function checkedType(model: string, input: TensorInfo): DataType {
  if (!isDataType(input.datatype)) {
    throw new BenchError('TARGET_ERROR', `model ${model} input ${input.name} has datatype '${input.datatype}', which the harness cannot generate`);
  }
  return input.datatype;
}

function resolveShape(input: TensorInfo, override: number[] | undefined): number[] {
  if (override) {
    const fits = override.length === input.shape.length && override.every((d, i) => input.shape[i] < 0 || input.shape[i] === d);
    if (!fits) throw invalidArgument(`--shape ${input.name}:${override} does not fit the model's shape [${input.shape}]`);
    return override;
  }
  return input.shape.map((d) => (d < 0 ? 1 : d));
}

function fillRandom(type: DataType, data: TensorData, rng: Rng): void {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    switch (type) {
      case 'FP32': case 'FP64': (data as Float32Array)[i] = rng.next(); break;
      case 'FP16': (data as Uint16Array)[i] = toHalfBits(rng.next()); break;
      case 'BOOL': (data as Uint8Array)[i] = rng.nextUint32() & 1; break;
      case 'INT64': case 'UINT64': (data as BigInt64Array)[i] = BigInt(rng.nextUint32() & 15); break;
      case 'BYTES': (data as string[])[i] = rng.nextUint32().toString(36); break;
      default: (data as Int32Array)[i] = rng.nextUint32() & 15;
    }
  }
}

async function requestsFromFile(model: ModelInfo, path: string): Promise<WireTensor[][]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new BenchError('INVALID_FILE', `cannot read --input-data ${path}: ${(err as Error).message}`);
  }
  const entries = (parsed as { data?: unknown }).data;
  if (!Array.isArray(entries) || entries.length === 0) throw new BenchError('INVALID_FILE', `${path}: expected {"data": [{"INPUT": [...]}, ...]}`);
  return entries.map((entry, r) =>
    model.inputs.map((input): WireTensor => {
      const datatype = checkedType(model.name, input);
      const value = (entry as Record<string, unknown>)[input.name];
      if (value === undefined) throw new BenchError('INVALID_FILE', `${path}: data[${r}] has no input '${input.name}' (model ${model.name})`);
      const { content, shape } = Array.isArray(value)
        ? { content: value as unknown[], shape: undefined }
        : (value as { content?: unknown[]; shape?: number[] });
      if (!Array.isArray(content)) throw new BenchError('INVALID_FILE', `${path}: data[${r}].${input.name} must be an array or {content, shape}`);
      const what = `${path}: data[${r}].${input.name}`;
      const dims = shape ?? resolveShape(input, undefined);
      const flat = asFileError(() => flattenJsonData(content, dims, what));
      if (elementCount(dims) !== flat.length) throw new BenchError('INVALID_FILE', `${what} has ${flat.length} elements for shape [${dims}]`);
      const data = asFileError(() => tensorDataFromJson(datatype, flat, what));
      return { name: input.name, datatype, shape: dims, data };
    }),
  );
}

/** Runs serval's JSON tensor conversion, reporting its InvalidInputError as a file error. */
function asFileError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new BenchError('INVALID_FILE', (err as Error).message);
  }
}
