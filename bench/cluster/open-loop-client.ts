/**
 * A small open-loop HTTP client for the cluster benchmark: sends one fraud_mlp request at each given
 * arrival time over pooled keep-alive connections, and times each from its intended send time (a
 * generator that falls behind charges its lateness to latency: no coordinated omission). Also a
 * closed-loop mode (c clients back to back) for latency at c=1 and throughput ceilings.
 */
import { Pool } from 'undici';
import { MODEL } from './fleet.js';

export interface Outcome {
  /** Intended send time (s from the start) and latency (ms), per request; status 0 = no answer (connection error). */
  at: Float64Array;
  latencyMs: Float64Array;
  status: Uint16Array;
}

const BODY = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 128], data: new Array(128).fill(0.25) }] }));
const PATH = `/v2/models/${MODEL}/infer`;

async function once(pool: Pool): Promise<number> {
  try {
    const res = await pool.request({ path: PATH, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

export async function openLoop(url: string, arrivalsS: Float64Array, connections = 64): Promise<Outcome> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const n = arrivalsS.length;
  const out: Outcome = { at: Float64Array.from(arrivalsS), latencyMs: new Float64Array(n), status: new Uint16Array(n) };
  const t0 = performance.now() + 20;
  const pending: Promise<void>[] = [];
  let i = 0;
  while (i < n) {
    const due = t0 + arrivalsS[i]! * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait - 1));
    else if (wait > 0) await new Promise((r) => setImmediate(r));
    for (let sent = 0; i < n && t0 + arrivalsS[i]! * 1000 <= performance.now() && sent < 256; sent++, i++) {
      const k = i;
      const intended = t0 + arrivalsS[k]! * 1000;
      pending.push(once(pool).then((status) => {
        out.status[k] = status;
        out.latencyMs[k] = performance.now() - intended;
      }));
    }
  }
  await Promise.all(pending);
  await pool.close();
  return out;
}

/** `concurrency` clients sending back to back for `seconds`: per-request latencies (ms) and the rate achieved. */
export async function closedLoop(url: string, concurrency: number, seconds: number): Promise<{ latencyMs: number[]; rate: number; failed: number }> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const latencyMs: number[] = [];
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const status = await once(pool);
      if (status === 200) latencyMs.push(performance.now() - t);
      else failed++;
    }
  }));
  const rate = latencyMs.length / ((performance.now() - start) / 1000);
  await pool.close();
  return { latencyMs, rate, failed };
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
