/**
 * A small open-loop generator for the rollout benchmark: Poisson arrivals at a fixed rate, each request's
 * latency measured from its intended send time (a late generator is charged, not hidden), the version
 * that answered and the error code of a failure recorded per request.
 */
import type { InferOutputs } from '../../src/api-types.js';
import { arrivalSource } from '../arrivals.js';
import type { Rng } from '../rng.js';

export interface Outcome {
  /** Intended send time, ms since the start. */
  atMs: number;
  latencyMs: number;
  version: number | undefined;
  /** Error code of a failed request. */
  code?: string;
}

export interface OpenLoadOptions {
  rate: number;
  durationMs: number;
  rng: Rng;
  send: (i: number) => { version: number | undefined; outputs: Promise<InferOutputs> };
  /** Checked every turn: stop sending early (the rollout decided). */
  until?: () => boolean;
  /** Called about every `sampleMs` with the elapsed time (timeline sampling). */
  onSample?: (ms: number) => void;
  sampleMs?: number;
}

export async function openLoad(o: OpenLoadOptions): Promise<Outcome[]> {
  const source = arrivalSource({ kind: 'poisson' }, o.rate, o.rng);
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let next = source.next()! * 1000;
  let sampled = -Infinity;
  let i = 0;
  for (;;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= o.durationMs || o.until?.()) break;
    if (o.onSample && elapsed - sampled >= (o.sampleMs ?? 100)) {
      sampled = elapsed;
      o.onSample(elapsed);
    }
    while (next <= performance.now() - t0) {
      const intended = next;
      const { version, outputs } = o.send(i++);
      const record = (code?: string) => {
        outcomes.push({ atMs: intended, latencyMs: performance.now() - t0 - intended, version, ...(code ? { code } : {}) });
      };
      pending.push(outputs.then(() => record(), (err: { code?: string }) => record(err?.code ?? 'INTERNAL')));
      next = source.next()! * 1000;
    }
    const wait = next - (performance.now() - t0);
    await new Promise<void>((resolve) => (wait > 2 ? setTimeout(resolve, wait - 1) : setImmediate(resolve)));
  }
  await Promise.all(pending);
  return outcomes;
}

/** Nearest-rank percentile (0-100) of the successful requests' latencies. */
export function percentileMs(outcomes: readonly Outcome[], p: number): number {
  const ms = outcomes.filter((x) => !x.code).map((x) => x.latencyMs).sort((a, b) => a - b);
  if (ms.length === 0) return NaN;
  return ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))]!;
}
