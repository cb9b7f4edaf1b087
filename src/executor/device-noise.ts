/**
 * Declared noise of an emulated device (`device_latency_noise_cv`, `device_latency_seed`): a multiplicative
 * log-normal factor with mean 1 and the given coefficient of variation.
 *
 * The generator is counter-based: draw k of instance i is a pure function of (seed, i, k), so the same model
 * loaded twice yields the same sequence of device times, each instance has its own stream, and an executor
 * that restarts after a crash continues its stream from the draw count it left behind.
 */

/** Multiplicative factor for draw `draw` of instance `instance`'s stream; exactly 1 when `cv` is 0. */
export function deviceNoiseFactor(cv: number, seed: number, instance: number, draw: number): number {
  if (cv === 0) return 1;
  // Log-normal with mean 1 and CV cv: sigma² = ln(1 + cv²), mu = -sigma²/2.
  const sigma2 = Math.log1p(cv * cv);
  const stream = mix32(mix32(seedLow(seed) ^ mix32(seedHigh(seed) + 0x9e3779b9)) ^ mix32(instance + 0x7f4a7c15));
  // Box-Muller from two uniforms in (0, 1] drawn at counters 2k and 2k+1 of the stream.
  const u1 = uniform(stream, 2 * draw);
  const u2 = uniform(stream, 2 * draw + 1);
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(-sigma2 / 2 + Math.sqrt(sigma2) * z);
}

/** Uniform in (0, 1] from a stream key and a counter (the counter may pass 2^32). */
function uniform(stream: number, counter: number): number {
  const h = mix32(stream ^ mix32(seedLow(counter) ^ mix32(seedHigh(counter) + 0x632be5ab)));
  return (h + 1) / 4294967296;
}

const seedLow = (n: number) => n >>> 0;
const seedHigh = (n: number) => Math.floor(n / 4294967296) >>> 0;

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
