/** The shape of a benchmark report (`--json`): what `compare`, the tables and the charts read back. */
import type { StepMetrics } from '../stats/summary.js';

export const REPORT_SCHEMA = 'serval-bench/1';

export type LoadMode = 'concurrency' | 'rate' | 'trace';

export interface ServerSplit {
  /** Mean time a request spent queued in the server, ms. */
  queueMs: number;
  /** Mean compute time per request, ms. */
  computeMs: number;
  /** Requests the server counted over the step. */
  count: number;
  /** Requests placed on each instance, by model (embedded serval). */
  placements?: Record<string, number[]>;
}

export interface StepResult extends StepMetrics {
  /** What was measured: a policy, a baseline, a target. Steps with the same series form one curve. */
  series: string;
  /** Scenario name, for scenario runs. */
  scenario?: string;
  mode: LoadMode;
  /** Concurrency, mean request rate (req/s), or the trace's rate scale. */
  value: number;
  /** Arrival process (open loop), e.g. `poisson`, or the trace file. */
  process?: string;
  models: string[];
  stable: boolean;
  /** How late the open-loop generator sent requests against their intended times, ms. */
  lagMs?: { p50: number; p99: number; max: number };
  server?: ServerSplit;
  /** One error message per failure reason. */
  failureExamples?: Record<string, string>;
  /** With --repeat: this is the run with the median throughput; ranges over all `n` runs (p99 null = ∞). */
  repeats?: { n: number; throughput: [number, number]; p99: [number | null, number | null] };
}

export interface HostInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  /** 1, 5 and 15-minute load averages when the report was written: other work on the machine shows here. */
  loadAverage: number[];
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  createdAt: string;
  host: HostInfo;
  /** The command line, for reproducing. */
  command: string;
  /** Benchmark or target description. */
  title: string;
  settings: Record<string, unknown>;
  steps: StepResult[];
  /** Free-form notes printed under the table (baseline definitions, attribution). */
  notes?: string[];
}
