/** Step results as a terminal table or a markdown table (the same columns, chosen by what the steps carry). */
import { stepLabel } from '../sweep.js';
import { fmtFailures, fmtMs, fmtPercent, fmtRate } from './format.js';
import type { StepResult } from './types.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-align (numbers). @default true */
  right?: boolean;
}

export function renderTable<T>(columns: Column<T>[], rows: T[], markdown: boolean): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  if (markdown) {
    const line = (xs: string[]) => `| ${xs.join(' | ')} |`;
    const rule = columns.map((c) => (c.right === false ? '---' : '---:'));
    return [line(columns.map((c) => c.header)), line(rule), ...cells.map(line)].join('\n');
  }
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const pad = (s: string, i: number) => (columns[i].right === false ? s.padEnd(widths[i]) : s.padStart(widths[i]));
  const out = [columns.map((c, i) => pad(c.header, i)).join('  '), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(r.map(pad).join('  '));
  return out.join('\n');
}

export function stepColumns(steps: StepResult[]): Column<StepResult>[] {
  const cols: Column<StepResult>[] = [];
  const distinct = (f: (s: StepResult) => unknown) => new Set(steps.map(f)).size > 1;
  if (steps.some((s) => s.scenario)) cols.push({ header: 'scenario', value: (s) => s.scenario ?? '', right: false });
  if (distinct((s) => s.series) || steps.some((s) => s.scenario)) cols.push({ header: 'series', value: (s) => s.series, right: false });
  cols.push({ header: 'load', value: (s) => stepLabel(s.mode, s.value) + (s.stable || s.mode === 'trace' ? '' : ' *'), right: false });
  if (steps.some((s) => s.mode !== 'concurrency')) cols.push({ header: 'offered/s', value: (s) => (s.mode === 'concurrency' ? '' : fmtRate(s.offeredRate)) });
  cols.push({ header: 'infer/s', value: (s) => fmtRate(s.throughput) });
  const had = (s: StepResult) => s.arrivals > 0;
  cols.push(
    { header: 'p50 ms', value: (s) => fmtMs(s.latencyMs.p50, had(s)) },
    { header: 'p90 ms', value: (s) => fmtMs(s.latencyMs.p90, had(s)) },
    { header: 'p95 ms', value: (s) => fmtMs(s.latencyMs.p95, had(s)) },
    { header: 'p99 ms', value: (s) => fmtMs(s.latencyMs.p99, had(s)) },
    { header: 'max ms', value: (s) => fmtMs(s.latencyMs.max, had(s)) },
  );
  if (steps.some((s) => s.repeats)) {
    const range = (r: [number | null, number | null] | undefined, f: (v: number | null) => string) => (r ? `${f(r[0])}-${f(r[1])}` : '');
    cols.push(
      { header: 'runs', value: (s) => String(s.repeats?.n ?? 1) },
      { header: 'infer/s range', value: (s) => range(s.repeats?.throughput, fmtRate) },
      { header: 'p99 range', value: (s) => range(s.repeats?.p99, (v) => fmtMs(v)) },
    );
  }
  if (steps.some((s) => s.attainment !== null)) {
    cols.push({ header: 'SLO met', value: (s) => fmtPercent(s.attainment) }, { header: 'goodput/s', value: (s) => fmtRate(s.goodput) });
  }
  cols.push({ header: 'requests', value: (s) => String(s.arrivals) }, { header: 'failed', value: (s) => fmtFailures(s.failures), right: false });
  if (steps.some((s) => s.server)) {
    cols.push(
      { header: 'queue ms', value: (s) => fmtMs(s.server?.queueMs, false) },
      { header: 'compute ms', value: (s) => fmtMs(s.server?.computeMs, false) },
    );
  }
  if (steps.some((s) => s.lagMs)) cols.push({ header: 'lag p99 ms', value: (s) => fmtMs(s.lagMs?.p99, false) });
  return cols;
}

/** Footnotes for what the table cannot say in a cell. */
export function stepNotes(steps: StepResult[]): string[] {
  const notes: string[] = [];
  if (steps.some((s) => !s.stable && s.mode !== 'trace')) notes.push('* not stable within --duration: all post-warm-up windows are reported');
  if (steps.some((s) => s.repeats)) notes.push('runs > 1: the run with the median throughput, with the ranges over all runs');
  if (steps.some((s) => s.failed > 0)) notes.push('∞: failed requests count as infinite latency; a percentile that falls among them is ∞');
  const examples = new Map<string, string>();
  for (const s of steps) for (const [k, v] of Object.entries(s.failureExamples ?? {})) if (!examples.has(k)) examples.set(k, v);
  for (const [k, v] of examples) notes.push(`${k}: ${v}`);
  return notes;
}

export function renderSteps(steps: StepResult[], markdown = false): string {
  const notes = stepNotes(steps);
  const table = renderTable(stepColumns(steps), steps, markdown);
  return notes.length ? `${table}\n\n${notes.map((n) => (markdown ? `- ${n}` : `  ${n}`)).join('\n')}` : table;
}
