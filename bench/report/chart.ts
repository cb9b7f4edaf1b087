/**
 * Charts as vega-lite specs (rendered by src/util/chart-writer.ts, re-exported here):
 *
 * - latency vs throughput: p50 and p99 against achieved throughput, one line per series.
 * - latency CDF: percentile against latency (log), one line per step.
 * - per-policy comparison: bars per series (policy), one panel per scenario and metric.
 */
import type { ChartSpec as Spec } from '../../src/util/chart-writer.js';
import { stepLabel } from '../sweep.js';
import type { StepResult } from './types.js';

export { renderSvg, writeChart } from '../../src/util/chart-writer.js';

/** Series in the order they first appear: every chart gives a series the same colour. */
function seriesOrder(steps: StepResult[]): string[] {
  return [...new Set(steps.map((s) => s.series))];
}

export function latencyThroughputSpec(steps: StepResult[]): Spec {
  const values = steps.flatMap((s) =>
    (['p50', 'p99'] as const)
      .filter((p) => s.latencyMs[p] !== null)
      .map((p) => ({ series: s.series, step: stepLabel(s.mode, s.value), load: s.value, throughput: s.throughput, percentile: p, ms: s.latencyMs[p] })),
  );
  return {
    title: 'Latency vs throughput',
    width: 420,
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'throughput', type: 'quantitative', title: 'throughput (infer/s)' },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', scale: { domain: seriesOrder(steps) } },
      strokeDash: { field: 'percentile', type: 'nominal' },
      // Connect a curve's points in load order, not by throughput.
      order: { field: 'load', type: 'quantitative' },
      tooltip: [{ field: 'series' }, { field: 'step' }, { field: 'percentile' }, { field: 'ms', format: '.2f' }],
    },
  };
}

export function latencyCdfSpec(steps: StepResult[]): Spec {
  const several = (f: (s: StepResult) => unknown) => new Set(steps.map(f)).size > 1;
  const [scenarios, series] = [several((s) => s.scenario), several((s) => s.series)];
  const name = (s: StepResult) =>
    [scenarios ? s.scenario : '', series ? s.series : '', several((x) => `${x.mode}${x.value}`) ? stepLabel(s.mode, s.value) : ''].filter(Boolean).join(' ') || s.series;
  const values = steps.flatMap((s) => s.cdf.map(([p, ms]) => ({ line: name(s), percentile: p, ms })));
  return {
    title: 'Latency CDF (failures are off the chart)',
    width: 420,
    height: 280,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } },
      y: { field: 'percentile', type: 'quantitative', title: 'percentile', scale: { domain: [0, 100] } },
      color: { field: 'line', type: 'nominal', title: null },
    },
  };
}

export type BarMetric = 'p99' | 'p50' | 'attainment' | 'goodput' | 'throughput';

function metricValue(s: StepResult, metric: BarMetric): number | null {
  if (metric === 'p50' || metric === 'p99') return s.latencyMs[metric];
  if (metric === 'attainment') return s.attainment === null ? null : s.attainment * 100;
  return metric === 'goodput' ? s.goodput : s.throughput;
}

const METRIC_TITLE: Record<BarMetric, string> = {
  p50: 'p50 latency (ms)',
  p99: 'p99 latency (ms)',
  attainment: 'SLO attainment (%)',
  goodput: 'goodput (req/s)',
  throughput: 'throughput (infer/s)',
};

/** One row of bar panels per metric, one panel per scenario; ∞ latencies are drawn as missing bars. */
export function comparisonBarsSpec(steps: StepResult[], metrics: BarMetric[] = ['p99', 'attainment']): Spec {
  const panel = (s: StepResult) => s.scenario ?? stepLabel(s.mode, s.value);
  // Panels and bars in the order the steps ran, not alphabetically.
  const panels = [...new Set(steps.map(panel))];
  const series = seriesOrder(steps);
  const rows = metrics.map((metric) => ({
    title: metric === 'p50' || metric === 'p99' ? `${METRIC_TITLE[metric]}, ∞ not drawn` : METRIC_TITLE[metric],
    data: { values: steps.map((s) => ({ panel: panel(s), series: s.series, value: metricValue(s, metric) })) },
    transform: [{ filter: 'datum.value !== null' }],
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels } },
    spec: {
      width: 110,
      height: 150,
      mark: 'bar',
      encoding: {
        x: { field: 'series', type: 'nominal', title: null, sort: series, axis: { labelAngle: -40 } },
        y: { field: 'value', type: 'quantitative', title: METRIC_TITLE[metric], axis: { format: '~g' } },
        color: { field: 'series', type: 'nominal', legend: null, scale: { domain: series } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  }));
  return { vconcat: rows };
}

/** Puts several specs side by side in one chart. */
export function sideBySide(specs: Spec[]): Spec {
  return { hconcat: specs, resolve: { scale: { color: 'independent', strokeDash: 'independent' } } };
}
