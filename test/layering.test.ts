// Layers point one way: src/ is the product and bench/ uses it, so no file under src/ may import from
// bench/; and serving must not need the chart libraries (vega, vega-lite, resvg), which src/ may only load
// lazily (dynamic import) for `serval train-policy`'s chart.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHART_LIBRARIES = ['vega', 'vega-lite', '@resvg/resvg-js'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : []);
}

interface ImportRef { specifier: string; kind: 'static' | 'type' | 'dynamic' }

/** Every module specifier a source file imports or re-exports (static, type-only, dynamic, require). */
function importsOf(text: string): ImportRef[] {
  const out: ImportRef[] = [];
  const statics = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(statics)) out.push({ specifier: m[3]!, kind: m[2] ? 'type' : 'static' });
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ specifier: m[1]!, kind: 'dynamic' });
  return out;
}

/** The src/ files (relative paths) with the specifiers that resolve into bench/. */
function benchImports(files: { path: string; text: string }[]): string[] {
  const bench = join(ROOT, 'bench');
  return files.flatMap(({ path, text }) => importsOf(text)
    .filter((i) => i.specifier.startsWith('.'))
    .filter((i) => {
      const target = resolve(dirname(path), i.specifier);
      return target === bench || target.startsWith(bench + '/');
    })
    .map((i) => `${relative(ROOT, path)} imports ${i.specifier}`));
}

const SRC = sourceFiles(join(ROOT, 'src')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

describe('layering', () => {
  it('finds a bench import when there is one (the scan works)', () => {
    const fake = (text: string) => benchImports([{ path: join(ROOT, 'src', 'cli', 'x.ts'), text }]);
    expect(fake("import { CODE_TRACE } from '../../bench/scenarios.js';")).toHaveLength(1);
    expect(fake("export { x } from '../../bench/trace.js';")).toHaveLength(1);
    expect(fake("import type { T } from '../../bench/report/types.js';")).toHaveLength(1);
    expect(fake("import {\n  a,\n  b,\n} from '../../bench/x.js';")).toHaveLength(1);
    expect(fake("const m = await import('../../bench/x.js');")).toHaveLength(1);
    expect(fake("import { a } from '../placement/bench-ish.js';\nimport { b } from 'bench';")).toHaveLength(0);
  });

  it('no file under src/ imports from bench/', () => {
    expect(SRC.length).toBeGreaterThan(20);
    expect(benchImports(SRC)).toEqual([]);
  });

  it('src/ loads the chart libraries only lazily (serving never needs them)', () => {
    const eager = SRC.flatMap(({ path, text }) => importsOf(text)
      .filter((i) => i.kind === 'static' && CHART_LIBRARIES.includes(i.specifier))
      .map((i) => `${relative(ROOT, path)} imports ${i.specifier}`));
    expect(eager).toEqual([]);
  });
});
