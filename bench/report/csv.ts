/** Step results as CSV: one row per step, the same numbers as the JSON (empty cell = ∞ or not measured). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StepResult } from './types.js';

const COLUMNS: Array<[string, (s: StepResult) => unknown]> = [
  ['scenario', (s) => s.scenario ?? ''],
  ['series', (s) => s.series],
  ['mode', (s) => s.mode],
  ['value', (s) => s.value],
  ['process', (s) => s.process ?? ''],
  ['models', (s) => s.models.join(' ')],
  ['stable', (s) => s.stable],
  ['duration_s', (s) => s.durationS],
  ['arrivals', (s) => s.arrivals],
  ['ok', (s) => s.ok],
  ['failed', (s) => s.failed],
  ['failures', (s) => Object.entries(s.failures).map(([k, n]) => `${k}=${n}`).join(' ')],
  ['offered_rate', (s) => s.offeredRate],
  ['throughput', (s) => s.throughput],
  ['goodput', (s) => s.goodput],
  ['slo_attainment', (s) => s.attainment],
  ['p50_ms', (s) => s.latencyMs.p50],
  ['p90_ms', (s) => s.latencyMs.p90],
  ['p95_ms', (s) => s.latencyMs.p95],
  ['p99_ms', (s) => s.latencyMs.p99],
  ['max_ms', (s) => s.latencyMs.max],
  ['mean_ms', (s) => s.latencyMs.mean],
  ['ok_p50_ms', (s) => s.okLatencyMs.p50],
  ['ok_p99_ms', (s) => s.okLatencyMs.p99],
  ['server_queue_ms', (s) => s.server?.queueMs],
  ['server_compute_ms', (s) => s.server?.computeMs],
  ['lag_p99_ms', (s) => s.lagMs?.p99],
];

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = String(v);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function stepsToCsv(steps: StepResult[]): string {
  return [COLUMNS.map(([h]) => h).join(','), ...steps.map((s) => COLUMNS.map(([, f]) => cell(f(s))).join(','))].join('\n') + '\n';
}

export async function writeCsv(file: string, steps: StepResult[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, stepsToCsv(steps));
}
