/**
 * Repeated trials (`--repeat N`): the same step measured N times, interleaved with the other variants so that
 * drift on the machine hits every variant alike. The step reported is the run with the median throughput (a
 * real run, so its numbers belong together), with the range of throughput and p99 over all runs beside it.
 */
import type { StepResult } from '../report/types.js';

export function stepKey(s: StepResult): string {
  return [s.scenario ?? '', s.series, s.mode, s.value].join('|');
}

/** One step per key, in first-seen order; keys measured more than once get `repeats`. */
export function mergeRepeats(steps: StepResult[]): StepResult[] {
  const groups = new Map<string, StepResult[]>();
  for (const s of steps) {
    const g = groups.get(stepKey(s));
    if (g) g.push(s);
    else groups.set(stepKey(s), [s]);
  }
  return [...groups.values()].map((runs) => {
    if (runs.length === 1) return runs[0];
    const byThroughput = [...runs].sort((a, b) => a.throughput - b.throughput);
    const median = byThroughput[Math.floor((byThroughput.length - 1) / 2)];
    const p99s = runs.map((r) => r.latencyMs.p99 ?? Infinity);
    const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
    return {
      ...median,
      repeats: {
        n: runs.length,
        throughput: [byThroughput[0].throughput, byThroughput[byThroughput.length - 1].throughput],
        p99: [finiteOrNull(Math.min(...p99s)), finiteOrNull(Math.max(...p99s))],
      },
    };
  });
}
