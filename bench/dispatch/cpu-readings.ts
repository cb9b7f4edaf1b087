/**
 * What the CPU-per-request benchmarks share: thread CPU time from the kernel's scheduler statistics, the
 * median-and-range summary, and the options every one of them takes.
 */
import { readFileSync } from 'node:fs';

/** Nanoseconds thread `tid` of process `pid` has run (/proc/PID/task/TID/schedstat). */
export function threadCpuNs(pid: number, tid = pid): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** `median [min-max]` with `digits` decimals. */
export function medianRange(xs: number[], digits: number): string {
  return `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;
}

/** Options of node:util parseArgs that every CPU benchmark takes, with its own defaults for runs. */
export function commonCpuOptions(runs: string) {
  return {
    'model-repository': { type: 'string', default: 'models' },
    model: { type: 'string', default: 'fraud_mlp' },
    runs: { type: 'string', default: runs },
  } as const;
}
