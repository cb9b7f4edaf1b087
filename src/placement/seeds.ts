/**
 * Seeds for training and evaluation, derived from one user seed and labels, so that every stream
 * (episode, perturbation, split) is independent, reproducible, and disjoint between splits.
 */

/** A 31-bit seed for (base, ...parts): FNV-1a over the parts, then a murmur-style finaliser. */
export function deriveSeed(base: number, ...parts: (string | number)[]): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (const part of parts) {
    for (const ch of String(part)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    h = Math.imul(h ^ 0x2f, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) & 0x7fffffff;
}

/** Uniform numbers in [0, 1) from a seed: for sampling episode parameters. */
export { mulberry32 as uniforms } from '../model-generator/onnx/prng.js';
