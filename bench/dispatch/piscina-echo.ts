/** Piscina task for dispatch-overhead: returns its input (no model). */
export default function echo(x: Float32Array): Float32Array {
  return x;
}
