/**
 * Reports: tables print ∞ for percentiles that fall among failures, compare pairs steps and gives B/A ratios,
 * repeated runs collapse to the median run with ranges, CSV cells are escaped, charts render headlessly.
 */
import { describe, expect, it } from 'vitest';
import { MeasurementWindow } from '../bench/load/recorder.js';
import { comparisonBarsSpec, latencyThroughputSpec, renderSvg, sideBySide } from '../bench/report/chart.js';
import { pairSteps, renderComparison, renderRatios } from '../bench/report/compare.js';
import { stepsToCsv } from '../bench/report/csv.js';
import { buildReport } from '../bench/report/json.js';
import { renderSteps } from '../bench/report/table.js';
import type { StepResult } from '../bench/report/types.js';
import { mergeRepeats } from '../bench/stats/repeats.js';
import { summarizeWindows } from '../bench/stats/summary.js';

/** A step whose requests took `latencies` ms, plus `failed` QUEUE_FULL failures, over one second. */
function step(series: string, value: number, latencies: number[], failed = 0, sloMs?: number): StepResult {
  const w = new MeasurementWindow(0, 0, 1000, 1);
  for (const ms of latencies) {
    w.cells[0].latency.recordMs(ms);
    if (sloMs !== undefined && ms <= sloMs) w.cells[0].withinSlo++;
  }
  w.cells[0].arrivals = latencies.length + failed;
  if (failed) w.cells[0].failures.set('QUEUE_FULL', failed);
  w.completedOk = latencies.length;
  return { series, mode: 'concurrency', value, models: ['m'], stable: true, ...summarizeWindows([w], 1000, ['m'], sloMs) };
}

const hundred = (ms: number) => Array.from({ length: 100 }, (_, i) => ms + i / 100);

describe('metrics', () => {
  it('failures rank above every success: percentiles among them are ∞ (null), attainment counts them', () => {
    const s = step('a', 1, hundred(1), 2, 1.5);
    expect(s.arrivals).toBe(102);
    expect(s.latencyMs.p50).toBeCloseTo(1.5, 1);
    expect(s.latencyMs.p99).toBeNull();
    expect(s.okLatencyMs.p99).toBeCloseTo(1.99, 1);
    expect(s.attainment).toBeCloseTo(51 / 102, 2);
    expect(s.throughput).toBe(100);
    expect(s.goodput).toBe(51);
    const table = renderSteps([s]);
    expect(table).toMatch(/QUEUE_FULL 2/);
    expect(table).toMatch(/∞/);
  });
});

describe('compare and ratios', () => {
  it('pairs steps by load and prints B/A', () => {
    const a = buildReport({ title: 'A', command: 'x', settings: {}, steps: [step('s', 1, hundred(2)), step('s', 8, hundred(4))] });
    const b = buildReport({ title: 'B', command: 'y', settings: {}, steps: [step('t', 8, hundred(2))] });
    const pairs = pairSteps(a, b);
    expect(pairs).toHaveLength(1);
    expect(pairs[0].a.value).toBe(8);
    expect(renderComparison(pairs)).toMatch(/s → t \/ concurrency 8 .* 0\.5\dx/);
  });

  it('ratios to a reference series at the same load', () => {
    const text = renderRatios([step('naive', 1, hundred(2)), step('serval', 1, hundred(1)), step('serval', 2, hundred(1))], 'naive');
    expect(text.split('\n')).toHaveLength(3); // header, rule, one row (no naive step at 2)
    expect(text).toMatch(/serval +1\.00x +0\.60x/);
  });
});

describe('repeats', () => {
  it('keeps the median-throughput run and the ranges', () => {
    const runs = [step('s', 1, hundred(1).slice(0, 50)), step('s', 1, hundred(3)), step('s', 1, hundred(2).slice(0, 80))];
    const [merged] = mergeRepeats(runs);
    expect(merged.throughput).toBe(80);
    expect(merged.repeats).toEqual({ n: 3, throughput: [50, 100], p99: [expect.closeTo(1.49, 1), expect.closeTo(3.99, 1)] });
    expect(renderSteps([merged])).toMatch(/ 3 +50\.0-100 +1\.49-3\.98/);
  });
});

describe('outputs', () => {
  it('CSV escapes cells and leaves ∞ empty', () => {
    const s = step('a, "quoted"', 1, hundred(1), 2);
    const [header, row] = stepsToCsv([s]).split('\n');
    expect(header.split(',')).toContain('p99_ms');
    expect(row).toMatch(/^,"a, ""quoted""",concurrency,1,/);
    expect(row.split(',')[header.split(',').indexOf('p99_ms') + 1]).toBe('');
  });

  it('charts render to SVG without a browser', async () => {
    const steps = [step('a', 1, hundred(1)), step('a', 2, hundred(2)), step('b', 1, hundred(3))];
    const svg = await renderSvg(sideBySide([latencyThroughputSpec(steps), comparisonBarsSpec(steps)]));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/Latency vs throughput/);
  });
});
