/**
 * What `serval train-policy` writes beside the weights: the training curve as a chart (vega-lite →
 * SVG/PNG through the benchmark's renderer) and a JSON record of the run, plus the simulated test table.
 */
import { writeFile } from 'node:fs/promises';
import { writeChart } from '../util/chart-writer.js';
import type { TrainOptions, TrainResult } from './trainer.js';

export function trainingCurveSpec(result: TrainResult): Record<string, unknown> {
  const values = result.curve.flatMap((p) => [
    ...(Number.isFinite(p.train) ? [{ generation: p.generation, series: 'train (learned, own episodes)', fitness: p.train }] : []),
    ...(p.validation !== undefined ? [{ generation: p.generation, series: 'validation: learned', fitness: p.validation }] : []),
    ...(p.validationEft !== undefined ? [{ generation: p.generation, series: 'validation: EFT', fitness: p.validationEft }] : []),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Learned placement: ES fine-tuning after behaviour cloning (best generation ${result.best.generation})`,
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'line', point: { size: 18 } },
    encoding: {
      x: { field: 'generation', type: 'quantitative' },
      y: { field: 'fitness', type: 'quantitative', title: 'fitness (SLO attainment - 0.02 x latency/SLO)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

export function testTable(result: TrainResult): string {
  const lines = ['| policy | SLO attainment | goodput vs EFT | p99 vs EFT (geo-mean) | fallbacks |', '|---|---|---|---|---|'];
  for (const r of result.test) {
    lines.push(`| ${r.policy} | ${(r.attainment * 100).toFixed(2)}% | ${r.goodputRatio.toFixed(3)} | ${r.p99Ratio.toFixed(3)} | ${r.fallbacks} |`);
  }
  return lines.join('\n');
}

export async function writeTrainingReport(file: string, options: TrainOptions, result: TrainResult, seconds: number): Promise<void> {
  const { trace, ...settings } = options;
  const record = { settings: { ...settings, traceArrivals: trace?.length ?? 0 }, seconds, bc: result.bc, best: result.best, curve: result.curve, test: result.test };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

export async function writeTrainingChart(file: string, result: TrainResult): Promise<void> {
  await writeChart(file, trainingCurveSpec(result));
}
