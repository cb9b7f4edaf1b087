/**
 * The scenario table: every scenario `npm run bench -- scenarios` runs, in one place. Loads are fractions of
 * capacity, measured first (closed-loop saturation of serval embedded on the scenario's repository and
 * models), so the same table means the same thing on any machine. Every placement policy sees the same
 * seeded arrival sequence.
 *
 * Scenario design follows /work/shared/research/placement-anchors.md §2.2 (low load, burst, model mix,
 * heterogeneous instances, overload).
 */
/** The shared Azure LLM "code" trace (CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024). */
export { CODE_TRACE } from '../src/util/trace.js';

export interface Scenario {
  name: string;
  /** One line for reports. */
  what: string;
  /** The model repository given on the command line, or one generated for the scenario (scenario-repos.ts). */
  repository: 'given' | 'hetero';
  /** `model`: the benchmark's --model; otherwise a --mix spec over the repository. */
  models: 'model' | { mix: string };
  load:
    | { kind: 'rate'; arrivals: string; fractionOfCapacity: number }
    /** Replays the benchmark's --code-trace (default CODE_TRACE). */
    | { kind: 'trace'; column: string; fractionOfCapacity: number };
  /** Seconds of load per policy (warm-up included). */
  durationS: { full: number; quick: number };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'low',
    what: 'Poisson arrivals at 30% of capacity: batching waits matter, every policy should be near the minimum',
    repository: 'given',
    models: 'model',
    load: { kind: 'rate', arrivals: 'poisson', fractionOfCapacity: 0.3 },
    durationS: { full: 60, quick: 5 },
  },
  {
    name: 'burst',
    what: 'on/off MMPP, 100 ms bursts at 8x the mean every 0.8 s on average (mean 8% of capacity, peaks at 64%)',
    repository: 'given',
    models: 'model',
    // Short cycles, so that even a --quick run sees several bursts and offers about the mean rate.
    load: { kind: 'rate', arrivals: 'mmpp:peak=8,on=0.1,off=0.7', fractionOfCapacity: 0.08 },
    durationS: { full: 60, quick: 5 },
  },
  {
    name: 'burst-trace',
    what: 'Azure LLM code trace (inter-arrival CV ~13), rate-scaled to a mean of 5% of capacity, looped',
    repository: 'given',
    models: 'model',
    load: { kind: 'trace', column: 'TIMESTAMP', fractionOfCapacity: 0.05 },
    durationS: { full: 60, quick: 5 },
  },
  {
    name: 'model-mix',
    what: 'every model in the repository (different costs), Zipf(1.0) request shares, Poisson at 50% of the mix capacity',
    repository: 'given',
    models: { mix: 'zipf:1.0' },
    load: { kind: 'rate', arrivals: 'poisson', fractionOfCapacity: 0.5 },
    durationS: { full: 60, quick: 5 },
  },
  {
    name: 'hetero',
    what: 'two instances of unequal speed (1x and 4x slower), Poisson at 50% of capacity',
    repository: 'hetero',
    models: 'model',
    load: { kind: 'rate', arrivals: 'poisson', fractionOfCapacity: 0.5 },
    durationS: { full: 60, quick: 5 },
  },
  {
    name: 'overload',
    what: 'Poisson at 120% of capacity for 30 s: stability and admission control',
    repository: 'given',
    models: 'model',
    load: { kind: 'rate', arrivals: 'poisson', fractionOfCapacity: 1.2 },
    durationS: { full: 30, quick: 4 },
  },
];
