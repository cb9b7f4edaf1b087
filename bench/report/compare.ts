/**
 * `serval bench compare A.json B.json`: pairs the steps of two reports (same scenario, series, load mode and
 * value; series is ignored when each report has a single one) and prints B/A ratios for throughput, p50 and p99,
 * and both SLO attainments. Ratios > 1 mean B is higher: better for throughput, worse for latency.
 */
import { stepLabel } from '../sweep.js';
import { fmtMs, fmtPercent, fmtRate, fmtRatio } from './format.js';
import { type Column, renderTable } from './table.js';
import type { BenchReport, StepResult } from './types.js';

export interface StepPair {
  key: string;
  a: StepResult;
  b: StepResult;
}

export function pairSteps(a: BenchReport, b: BenchReport): StepPair[] {
  const oneSeries = (r: BenchReport) => new Set(r.steps.map((s) => s.series)).size <= 1;
  const ignoreSeries = oneSeries(a) && oneSeries(b);
  const key = (s: StepResult) => [s.scenario ?? '', ignoreSeries ? '' : s.series, s.mode, s.value].join('|');
  const fromB = new Map(b.steps.map((s) => [key(s), s]));
  const pairs: StepPair[] = [];
  for (const s of a.steps) {
    const other = fromB.get(key(s));
    if (other) pairs.push({ key: key(s), a: s, b: other });
  }
  return pairs;
}

function ratio(b: number | null, a: number | null): number | null {
  return a === null || b === null || a === 0 ? null : b / a;
}

export function renderComparison(pairs: StepPair[], markdown = false): string {
  const label = (p: StepPair) => [p.a.scenario, p.a.series === p.b.series ? p.a.series : `${p.a.series} → ${p.b.series}`, stepLabel(p.a.mode, p.a.value)].filter(Boolean).join(' / ');
  const cols: Column<StepPair>[] = [
    { header: 'step', value: label, right: false },
    { header: 'infer/s A', value: (p) => fmtRate(p.a.throughput) },
    { header: 'infer/s B', value: (p) => fmtRate(p.b.throughput) },
    { header: 'tput B/A', value: (p) => fmtRatio(ratio(p.b.throughput, p.a.throughput)) },
    { header: 'p50 A', value: (p) => fmtMs(p.a.latencyMs.p50, p.a.arrivals > 0) },
    { header: 'p50 B', value: (p) => fmtMs(p.b.latencyMs.p50, p.b.arrivals > 0) },
    { header: 'p50 B/A', value: (p) => fmtRatio(ratio(p.b.latencyMs.p50, p.a.latencyMs.p50)) },
    { header: 'p99 A', value: (p) => fmtMs(p.a.latencyMs.p99, p.a.arrivals > 0) },
    { header: 'p99 B', value: (p) => fmtMs(p.b.latencyMs.p99, p.b.arrivals > 0) },
    { header: 'p99 B/A', value: (p) => fmtRatio(ratio(p.b.latencyMs.p99, p.a.latencyMs.p99)) },
  ];
  if (pairs.some((p) => p.a.attainment !== null || p.b.attainment !== null)) {
    cols.push({ header: 'SLO A', value: (p) => fmtPercent(p.a.attainment) }, { header: 'SLO B', value: (p) => fmtPercent(p.b.attainment) });
  }
  return renderTable(cols, pairs, markdown);
}

/**
 * Within one report: each step's throughput and p50/p99 as ratios to the `reference` series' step at the same
 * scenario and load (e.g. serval vs the naive baseline, measured side by side in the same run).
 */
export function renderRatios(steps: StepResult[], reference: string, markdown = false): string {
  const key = (s: StepResult) => [s.scenario ?? '', s.mode, s.value].join('|');
  const refs = new Map(steps.filter((s) => s.series === reference).map((s) => [key(s), s]));
  const rows = steps.filter((s) => s.series !== reference && refs.has(key(s))).map((s) => ({ s, r: refs.get(key(s))! }));
  const cols: Column<{ s: StepResult; r: StepResult }>[] = [
    { header: 'load', value: ({ s }) => [s.scenario, stepLabel(s.mode, s.value)].filter(Boolean).join(' / '), right: false },
    { header: 'series', value: ({ s }) => s.series, right: false },
    { header: `infer/s vs ${reference}`, value: ({ s, r }) => fmtRatio(ratio(s.throughput, r.throughput)) },
    { header: 'p50 ratio', value: ({ s, r }) => fmtRatio(ratio(s.latencyMs.p50, r.latencyMs.p50)) },
    { header: 'p99 ratio', value: ({ s, r }) => fmtRatio(ratio(s.latencyMs.p99, r.latencyMs.p99)) },
  ];
  return renderTable(cols, rows, markdown);
}
