/**
 * A closed-loop trial for the pipeline benchmark: `concurrency` callers each send their next request when the
 * previous one answers, for `seconds`. Reports throughput, latency percentiles, and the process CPU time per
 * request (every thread of the process: the main thread, executors, onnxruntime), which is steadier than
 * wall-clock rates on a shared machine.
 */
export interface TrialResult {
  series: string;
  concurrency: number;
  requests: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerRequest: number;
  failed: number;
}

export async function closedLoop(series: string, concurrency: number, seconds: number, send: (i: number) => Promise<unknown>): Promise<TrialResult> {
  const latencies: number[] = [];
  let failed = 0;
  let issued = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const i = issued++;
      const s = performance.now();
      try {
        await send(i);
        latencies.push((performance.now() - s) * 1000);
      } catch {
        failed++;
      }
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const requests = latencies.length + failed;
  return {
    series, concurrency, requests, failed,
    perSecond: latencies.length / wall,
    p50Us: at(0.5),
    p99Us: at(0.99),
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, requests),
  };
}

/** The median trial by throughput (trials of one series and concurrency, run interleaved with the others). */
export function medianTrial(trials: TrialResult[]): TrialResult {
  const sorted = [...trials].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}
