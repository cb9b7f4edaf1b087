/**
 * EmulatedDevices: the emulated devices of one model version, from its config parameters
 * `device_latency_model`, `device_latency_noise_cv`, `device_latency_seed` and `instance_slowdown`.
 *
 * Instance i holds each batch for slowdown_i x l(b) x noise. l is the declared curve, or else ONE curve
 * calibrated ONCE at load on one executor (the fastest of up to CALIBRATION_RUNS runs per batch size) and
 * shared by every instance, so identical instances are identical and nothing re-calibrates while serving.
 * Without any of these parameters the model runs at the host's own speed (no emulation).
 */
import { InvalidArgumentError } from '../errors.js';
import { newDeviceCounters, readDeviceCounters, type EmulatedDeviceSpec } from '../executor/emulated-device.js';
import { parseLatencyCurves, scaleCurve, type CurvePoint, type LatencyCurve } from '../executor/latency-curve.js';
import type { EmulatedDeviceStatus } from '../api-types.js';
import type { WarmupStep } from '../executor/protocol.js';
import type { ModelConfig } from '../repository/model-config.js';
import { zeroBatchStep } from './warmup.js';

/** A calibration request for one executor; resolves with the fastest run of each step in ms. */
export type Calibrator = (msg: { kind: 'calibrate'; steps: WarmupStep[]; maxRuns: number; budgetMs: number }) => Promise<number[]>;

const CALIBRATION_RUNS = 21;
const CALIBRATION_BUDGET_MS = 50;

export class EmulatedDevices {
  private base: LatencyCurve[] | undefined;
  private readonly counters: SharedArrayBuffer[];

  private constructor(
    private readonly declared: LatencyCurve[] | undefined,
    private readonly slowdown: number[],
    private readonly noiseCv: number,
    private readonly seed: number,
  ) {
    this.base = declared;
    this.counters = slowdown.map(() => newDeviceCounters());
  }

  /**
   * Reads and validates the parameters; undefined when the model emulates no device.
   * @throws InvalidArgumentError naming the model, the parameter and the bad value.
   */
  static fromParameters(parameters: Readonly<Record<string, string>>, instances: number, model: string): EmulatedDevices | undefined {
    const curveText = parameters['device_latency_model'];
    const slowdownText = parameters['instance_slowdown'];
    const cvText = parameters['device_latency_noise_cv'];
    const seedText = parameters['device_latency_seed'];
    if (curveText === undefined && slowdownText === undefined) {
      const orphan = cvText !== undefined ? 'device_latency_noise_cv' : seedText !== undefined ? 'device_latency_seed' : undefined;
      if (orphan) throw new InvalidArgumentError(`model '${model}': parameter ${orphan} needs device_latency_model or instance_slowdown (it applies to emulated devices only)`);
      return undefined;
    }
    const declared = curveText === undefined ? undefined : parseLatencyCurves(curveText, instances, model);
    const noiseCv = cvText === undefined ? 0 : Number(cvText.trim());
    if (cvText !== undefined && (cvText.trim() === '' || !Number.isFinite(noiseCv) || noiseCv < 0)) {
      throw new InvalidArgumentError(`model '${model}': parameter device_latency_noise_cv must be a finite number >= 0, got '${cvText}'`);
    }
    const seed = seedText === undefined ? 1 : Number(seedText.trim());
    if (seedText !== undefined && (!/^\d+$/.test(seedText.trim()) || !Number.isSafeInteger(seed))) {
      throw new InvalidArgumentError(`model '${model}': parameter device_latency_seed must be a non-negative integer, got '${seedText}'`);
    }
    return new EmulatedDevices(declared, instanceSlowdown(slowdownText, instances, model), noiseCv, seed);
  }

  /** Calibrates the shared curve on one executor unless it was declared. Call once, before `spec()`. */
  async resolve(config: ModelConfig, calibrate: Calibrator): Promise<void> {
    if (this.base) return;
    const sizes = calibrationBatchSizes(config.maxBatchSize);
    const ms = await calibrate({
      kind: 'calibrate',
      steps: sizes.map((b) => zeroBatchStep(config, b, 1)),
      maxRuns: CALIBRATION_RUNS,
      budgetMs: CALIBRATION_BUDGET_MS,
    });
    const curve = sizes.map((batchSize, i) => ({ batchSize, ms: Math.max(ms[i]!, 1e-3) }));
    this.base = this.slowdown.map(() => curve);
  }

  /** The device instance `instance`'s executor emulates. */
  spec(instance: number): EmulatedDeviceSpec {
    return { instance, curve: this.curveOf(instance), noiseCv: this.noiseCv, seed: this.seed, counters: this.counters[instance]! };
  }

  status(instance: number): EmulatedDeviceStatus {
    return {
      source: this.declared ? 'declared' : 'calibrated',
      slowdown: this.slowdown[instance]!,
      curve: this.curveOf(instance),
      noiseCv: this.noiseCv,
      seed: this.seed,
      ...readDeviceCounters(this.counters[instance]!),
    };
  }

  private curveOf(instance: number): CurvePoint[] {
    if (!this.base) throw new Error('EmulatedDevices: resolve() was not called');
    return scaleCurve(this.base[instance]!, this.slowdown[instance]!).slice();
  }
}

/** 1, 2, 4, ... up to and including max_batch_size (just 1 for a non-batching model). */
export function calibrationBatchSizes(maxBatchSize: number): number[] {
  const sizes: number[] = [];
  for (let b = 1; b < maxBatchSize; b *= 2) sizes.push(b);
  sizes.push(Math.max(1, maxBatchSize));
  return sizes;
}

/** Config parameter `instance_slowdown` ("1,4"): one factor >= 1 per instance; all 1 when absent. */
function instanceSlowdown(text: string | undefined, instances: number, model: string): number[] {
  if (text === undefined) return new Array<number>(instances).fill(1);
  const values = text.split(',').map((v) => (v.trim() === '' ? NaN : Number(v.trim())));
  if (values.length !== instances || values.some((v) => !Number.isFinite(v) || v < 1)) {
    throw new InvalidArgumentError(`model '${model}': parameter instance_slowdown must list ${instances} numbers >= 1 (one per instance), got '${text}'`);
  }
  return values;
}
