/**
 * Latency profile files (`serval profile` writes them; `serval train-policy`, the simulator and
 * `Runtime.seedLatencyProfile` read them): per model, each instance's measured batch-latency curve l(b)
 * with its coefficient of variation, the model's batching settings, and the per-request overhead outside
 * the batch (dispatch and completion). JSON, schema `serval-profile/1`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import { curveMs } from '../executor/latency-curve.js';

export const PROFILE_SCHEMA = 'serval-profile/1';

export interface InstanceProfile {
  /** Ascending batch sizes measured. */
  batchSizes: number[];
  /** Execution time of a batch of each size (10%-trimmed mean), microseconds. */
  meanUs: number[];
  /** Coefficient of variation of the (trimmed) execution times at each size. */
  cv: number[];
  /** Executions measured at each size. */
  samples: number[];
}

export interface ModelProfile {
  version: number;
  maxBatchSize: number;
  preferredBatchSizes: number[];
  maxQueueDelayUs: number;
  /** Mean per-request time outside queue and batch execution (dispatch, completion), microseconds. */
  overheadUs: number;
  instances: InstanceProfile[];
}

export interface ProfileFile {
  schema: typeof PROFILE_SCHEMA;
  createdAt: string;
  host: { cpus: number; cpuModel: string; node: string };
  repository: string;
  models: Record<string, ModelProfile>;
}

export async function writeProfileFile(path: string, profile: ProfileFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(profile, null, 2)}\n`);
}

export async function readProfileFile(path: string): Promise<ProfileFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read profile file '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`profile file '${path}' is not JSON: ${(err as Error).message}`);
  }
  return validateProfile(json, `profile file '${path}'`);
}

/** Checks the shape of a parsed profile; the error names the offending field. */
export function validateProfile(json: unknown, source: string): ProfileFile {
  const fail = (why: string): never => { throw new InvalidArgumentError(`${source}: ${why}`); };
  const p = json as ProfileFile;
  if (!p || typeof p !== 'object' || p.schema !== PROFILE_SCHEMA) fail(`schema must be '${PROFILE_SCHEMA}'`);
  if (!p.models || typeof p.models !== 'object' || Object.keys(p.models).length === 0) fail('no models');
  for (const [name, m] of Object.entries(p.models)) {
    const at = `models.${name}`;
    if (!Number.isInteger(m.maxBatchSize) || m.maxBatchSize < 0) fail(`${at}.maxBatchSize must be an integer >= 0`);
    if (!Array.isArray(m.preferredBatchSizes)) fail(`${at}.preferredBatchSizes must be an array`);
    if (!(m.maxQueueDelayUs >= 0)) fail(`${at}.maxQueueDelayUs must be >= 0`);
    if (!(m.overheadUs >= 0)) fail(`${at}.overheadUs must be >= 0`);
    if (!Array.isArray(m.instances) || m.instances.length === 0) fail(`${at}.instances must be a non-empty array`);
    m.instances.forEach((inst, i) => {
      const n = inst.batchSizes?.length ?? 0;
      if (n === 0) fail(`${at}.instances[${i}].batchSizes is empty`);
      for (const key of ['meanUs', 'cv', 'samples'] as const) {
        if (!Array.isArray(inst[key]) || inst[key].length !== n) fail(`${at}.instances[${i}].${key} must have one entry per batch size`);
      }
      inst.batchSizes.forEach((b, k) => {
        if (!Number.isInteger(b) || b < 1 || (k > 0 && b <= inst.batchSizes[k - 1]!)) fail(`${at}.instances[${i}].batchSizes must be ascending positive integers`);
        if (!(inst.meanUs[k]! > 0)) fail(`${at}.instances[${i}].meanUs[${k}] must be positive`);
      });
    });
  }
  return p;
}

/**
 * An instance's mean latency for every batch size 1..max (index b-1), microseconds: measured sizes as they
 * are, sizes between two measured ones interpolated linearly, sizes below the first measured one at its
 * value, sizes above the last one extrapolated along the last segment's slope.
 */
export function latencyCurveUs(inst: InstanceProfile, maxBatchSize: number): number[] {
  // The emulated devices' curve rule; curveMs interpolates in whatever unit its points carry (here µs).
  const curve = inst.batchSizes.map((batchSize, k) => ({ batchSize, ms: inst.meanUs[k]! }));
  return Array.from({ length: Math.max(1, maxBatchSize) }, (_, i) => curveMs(curve, i + 1));
}

/** Mean coefficient of variation over an instance's measured sizes. */
export function meanCv(inst: InstanceProfile): number {
  return inst.cv.reduce((a, b) => a + b, 0) / inst.cv.length;
}

/** A runtime that can take seeded latency profiles (src/runtime.ts). */
export interface ProfileSeedable {
  models(): { name: string; state: string }[];
  seedLatencyProfile(model: string, instances: { batchSize: number; seconds: number }[][]): void;
}

/** Seeds the latency profile of every loaded model the file describes. Returns the models seeded. */
export function seedRuntimeFromProfile(rt: ProfileSeedable, profile: ProfileFile): string[] {
  const seeded: string[] = [];
  for (const m of rt.models()) {
    const p = profile.models[m.name];
    if (!p || m.state !== 'READY' || seeded.includes(m.name)) continue;
    rt.seedLatencyProfile(m.name, p.instances.map((inst) => inst.batchSizes.map((b, k) => ({ batchSize: b, seconds: inst.meanUs[k]! * 1e-6 }))));
    seeded.push(m.name);
  }
  return seeded;
}
