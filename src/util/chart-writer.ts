/**
 * Renders a vega-lite spec headlessly (vega-lite → vega → `View(...).toSVG()` with renderer 'none') and writes
 * it as SVG, or as PNG through resvg when the file name ends in .png. Shared by `serval train-policy` and the
 * benchmark harness (bench/report/chart.ts builds the specs).
 *
 * vega, vega-lite and resvg are imported lazily, on the first chart: serving never loads them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A vega-lite spec without `$schema` (added here with the white background and font every chart shares). */
export type ChartSpec = Record<string, unknown>;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const top = { $schema: SCHEMA, background: 'white', config: { font: 'DejaVu Sans' }, ...spec } as TopLevelSpec;
  const view = new View(parse(compile(top).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes the chart as SVG, or as PNG when `file` ends in .png. */
export async function writeChart(file: string, spec: ChartSpec): Promise<void> {
  const svg = await renderSvg(spec);
  await mkdir(dirname(file), { recursive: true });
  if (file.toLowerCase().endsWith('.png')) {
    const { Resvg } = await import('@resvg/resvg-js');
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
    await writeFile(file, png);
  } else {
    await writeFile(file, svg);
  }
}
