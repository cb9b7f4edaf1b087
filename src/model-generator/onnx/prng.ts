/**
 * Seeded randomness for model weights, so that every run of the generator writes the same bytes.
 */

/** mulberry32: a small 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` samples of N(0, std²), drawn with the Box-Muller transform from `uniform`. */
export function normalSamples(uniform: () => number, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - uniform(); // (0, 1]: keeps log() finite
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** He-normal initialisation for a layer with `fanIn` inputs: N(0, 2 / fanIn). */
export function heNormal(uniform: () => number, fanIn: number, count: number): Float32Array {
  return normalSamples(uniform, count, Math.sqrt(2 / fanIn));
}
