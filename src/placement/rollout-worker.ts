/**
 * Piscina worker for simulator rollouts: runs each config of a task through the native simulator (which
 * blocks its thread, hence the workers) and returns the numbers training needs. Policies arrive as
 * policy.bin bytes; structured cloning turns a Buffer into a Uint8Array, so they are re-wrapped here.
 */
import { loadAddon, type NativeDecisionDataset, type NativeSimConfig, type NativeSimPolicy } from '../binding.js';

export interface RolloutTask {
  configs: NativeSimConfig[];
}

export interface RolloutOutcome {
  attainment: number;
  goodput: number;
  meanNormLatency: number;
  p99Ms: number;
  fallbacks: number;
  dataset?: NativeDecisionDataset;
}

function asBuffers(p: NativeSimPolicy | NativeSimPolicy[]): NativeSimPolicy | NativeSimPolicy[] {
  if (Array.isArray(p)) return p.map((x) => asBuffers(x) as NativeSimPolicy);
  if (typeof p === 'string' || Buffer.isBuffer(p.weights)) return p;
  const u8 = p.weights as unknown as Uint8Array;
  return { weights: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength) };
}

export function runRollouts(task: RolloutTask): RolloutOutcome[] {
  const sim = loadAddon().sim;
  return task.configs.map((config) => {
    const r = sim.simulate({ ...config, policy: asBuffers(config.policy) });
    return {
      attainment: r.attainment,
      goodput: r.goodput,
      meanNormLatency: r.meanNormLatency,
      p99Ms: r.p99Ms,
      fallbacks: r.policyFallbacks,
      ...(r.dataset ? { dataset: r.dataset } : {}),
    };
  });
}

export default runRollouts;
