/**
 * EmulatedDevice: how an executor thread emulates a device with a known batch-latency curve. Each batch
 * occupies the instance until its start + l(b) x noise, sleeping (not computing) once onnxruntime has
 * produced the real outputs, so the device's speed does not depend on the host's current CPU load.
 *
 * Counters live in a SharedArrayBuffer the model version (main thread) owns and reads for stats; only the
 * executor thread writes them, and a restarted executor gets the same buffer, so its noise stream and
 * overrun count continue.
 */
import { deviceNoiseFactor } from './device-noise.js';
import { curveMs, type CurvePoint } from './latency-curve.js';

export interface EmulatedDeviceSpec {
  /** Instance index: selects the noise stream. */
  instance: number;
  /** The curve this instance holds batches for (the slowdown already applied). */
  curve: CurvePoint[];
  noiseCv: number;
  seed: number;
  /** EMULATED_DEVICE_COUNTERS BigInt64 slots: [overruns, batches]. */
  counters: SharedArrayBuffer;
}

const OVERRUNS = 0;
const BATCHES = 1;
export const EMULATED_DEVICE_COUNTERS = 2;

export function newDeviceCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(EMULATED_DEVICE_COUNTERS * BigInt64Array.BYTES_PER_ELEMENT);
}

/** Reads the counters of a device (any thread). */
export function readDeviceCounters(counters: SharedArrayBuffer): { overruns: number; batches: number } {
  const c = new BigInt64Array(counters);
  return { overruns: Number(Atomics.load(c, OVERRUNS)), batches: Number(Atomics.load(c, BATCHES)) };
}

export class EmulatedDevice {
  private readonly counters: BigInt64Array;
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly spec: EmulatedDeviceSpec) {
    this.counters = new BigInt64Array(spec.counters);
  }

  /** The device time of the next batch of `batchSize` samples, in ms; advances the noise stream. */
  nextBatchMs(batchSize: number): number {
    const draw = Number(Atomics.add(this.counters, BATCHES, 1n));
    return curveMs(this.spec.curve, batchSize) * deviceNoiseFactor(this.spec.noiseCv, this.spec.seed, this.spec.instance, draw);
  }

  /**
   * Blocks this thread until `deadline` (a performance.now() time). If the deadline had already passed, the
   * host could not run the model as fast as the declared device: counts an overrun.
   */
  holdUntil(deadline: number): void {
    let left = deadline - performance.now();
    if (left < 0) {
      Atomics.add(this.counters, OVERRUNS, 1n);
      return;
    }
    // Atomics.wait may return a little early on some platforms: loop so the hold is a lower bound.
    while (left > 0) {
      Atomics.wait(this.sleepCell, 0, 0, left);
      left = deadline - performance.now();
    }
  }
}
